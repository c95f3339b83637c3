import Foundation

/// A row left out of the audit, with where it came from and why.
public struct SkippedEntry: Sendable {
    public var line: Int?
    public var file: String?
    /// One line saying why, with the details (shown per row in report.md and run.json).
    public var reason: String
    /// The kind of cause the summaries count by: the same for every row skipped for the same cause.
    public var kind: SkipKind

    public init(line: Int?, file: String?, reason: String, kind: SkipKind) {
        self.line = line
        self.file = file
        self.reason = reason
        self.kind = kind
    }

    /// A manifest row that the row checks left out.
    public init(_ row: SkippedRow) {
        self.init(line: row.line, file: row.file, reason: "\(row.reason)", kind: row.reason.kind)
    }
}
