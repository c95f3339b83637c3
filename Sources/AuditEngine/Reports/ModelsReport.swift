import Foundation

/// The top report of a several-model audit: `report.md`, `report.html` and `charts/`.
public enum ModelsReport {
    /// The top folder's report files, as (path relative to the folder, contents).
    public static func files(_ data: ModelsReportData) -> [(path: String, contents: String)] {
        // Replaced by the top-report renderer at merge.
        []
    }
}
