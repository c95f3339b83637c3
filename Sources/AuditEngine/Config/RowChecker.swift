import CLIPEngine
import Foundation

/// A manifest row that an audit can use.
public struct UsableRow: Sendable, Hashable {
    /// 1-based line where the record starts in the manifest.
    public let line: Int
    /// The image path as written in the file column.
    public let file: String
    /// The image file (inside `image_root`).
    public let imageURL: URL
    /// The value of each attribute column (trimmed), keyed by column name.
    public let attributes: [String: String]
    /// The value of each design's target column (trimmed), keyed by column name.
    public let targets: [String: String]

    /// The group of an attribute, or of an intersection as `White|Male` for `["race", "gender"]`.
    public func group(of attributes: [String]) -> String? {
        var parts: [String] = []
        for name in attributes {
            guard let value = self.attributes[name] else { return nil }
            parts.append(value)
        }
        return Slice(attributes: attributes).groupText(parts)
    }

    /// The true class of `design`, when it has a target.
    public func truth(for design: DesignSpec) -> String? {
        design.target.flatMap { targets[$0] }
    }
}

/// What `RowChecker.check` decides about one row.
public enum RowCheck: Sendable, Hashable {
    /// The row can be scored.
    case usable(UsableRow)
    /// The row is left out, with the reason.
    case skipped(SkippedRow)
}

/// Classifies manifest rows as usable or skipped-with-reason for an audit: the one place
/// both `validate` and `run` decide which rows count.
///
/// A row is skipped when its file path is empty, absolute, leaves `image_root` through `..`
/// or through a symlink, names no existing file (when `checkImageFiles`), or when an
/// attribute or a design's target column is empty. Values are trimmed of surrounding
/// whitespace. A target value that is not a class of its design is *not* a skip reason:
/// that is a configuration error that `AuditValidator` reports for the whole column.
public struct RowChecker: Sendable {
    /// The configuration the rows are checked against.
    public let config: AuditConfig
    /// The manifest's columns.
    public let columns: [String]
    /// Whether image files must exist (and are resolved through symlinks).
    public let checkImageFiles: Bool

    let fileIndex: Int
    let attributeIndices: [(name: String, index: Int)]
    let targetIndices: [(name: String, index: Int)]
    /// `image_root` with symlinks resolved, for the escape check.
    let resolvedRoot: String

    /// Prepares the checks; throws (pointing into the audit file) when the manifest lacks the
    /// file column, an attribute column or a target column. All missing columns are listed
    /// by `missingColumns(config:columns:)`.
    public init(config: AuditConfig, columns: [String], checkImageFiles: Bool = true) throws {
        if let first = Self.missingColumns(config: config, columns: columns).first { throw first }
        self.config = config
        self.columns = columns
        self.checkImageFiles = checkImageFiles
        fileIndex = columns.firstIndex(of: config.manifest.fileColumn)!
        attributeIndices = config.attributes.map { ($0, columns.firstIndex(of: $0)!) }
        targetIndices = config.targetColumns.map { ($0, columns.firstIndex(of: $0)!) }
        resolvedRoot = Self.realPath(config.manifest.imageRoot.path) ?? config.manifest.imageRoot.standardizedFileURL.path
    }

    /// One error per column the audit needs that the manifest lacks.
    public static func missingColumns(config: AuditConfig, columns: [String]) -> [AuditFileError] {
        let available = "columns: \(columns.joined(separator: ", "))"
        var errors: [AuditFileError] = []
        if !columns.contains(config.manifest.fileColumn) {
            let key = config.sourceLines["manifest.file_column"] != nil ? "manifest.file_column" : "manifest.path"
            errors.append(config.error(at: key, "the manifest has no file column \"\(config.manifest.fileColumn)\" (\(available))"))
        }
        for (index, attribute) in config.attributes.enumerated() where !columns.contains(attribute) {
            errors.append(config.error(at: "attributes[\(index)]", "column \"\(attribute)\" is not in the manifest (\(available))"))
        }
        for (index, design) in config.designs.enumerated() {
            if let target = design.target, !columns.contains(target) {
                errors.append(
                    config.error(
                        at: "designs[\(index)].target",
                        "target column \"\(target)\" of design \"\(design.name)\" is not in the manifest (\(available))"))
            }
        }
        return errors
    }

    /// Classifies one row.
    public func check(_ row: ManifestRow) -> RowCheck {
        let rawFile = row.fields[fileIndex].trimmingBlanks
        func skip(_ reason: SkipReason) -> RowCheck {
            .skipped(SkippedRow(line: row.line, file: rawFile.isEmpty ? nil : rawFile, reason: reason))
        }
        guard !rawFile.isEmpty else { return skip(.emptyValue(column: config.manifest.fileColumn)) }
        var attributes: [String: String] = [:]
        for (name, index) in attributeIndices {
            let value = row.fields[index].trimmingBlanks
            if value.isEmpty { return skip(.emptyValue(column: name)) }
            attributes[name] = value
        }
        var targets: [String: String] = [:]
        for (name, index) in targetIndices {
            let value = row.fields[index].trimmingBlanks
            if value.isEmpty { return skip(.emptyValue(column: name)) }
            targets[name] = value
        }
        switch locate(rawFile) {
        case .failure(let reason):
            return skip(reason)
        case .success(let url):
            return .usable(UsableRow(line: row.line, file: rawFile, imageURL: url, attributes: attributes, targets: targets))
        }
    }

    /// Resolves an image path inside `image_root`, or says why it cannot be used.
    func locate(_ path: String) -> Located {
        if path.hasPrefix("/") || path.hasPrefix("~") {
            return .failure(.escapesImageRoot(path: path, detail: "absolute path"))
        }
        var depth = 0
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == ".." {
                depth -= 1
                if depth < 0 { return .failure(.escapesImageRoot(path: path, detail: "`..` leaves the folder")) }
            } else if component != "." {
                depth += 1
            }
        }
        let url = Self.imageURL(root: config.manifest.imageRoot, path: path)
        guard checkImageFiles else { return .success(url) }
        guard let real = Self.realPath(url.path) else { return .failure(.missingImage(path: path)) }
        if !(real == resolvedRoot || real.hasPrefix(resolvedRoot.hasSuffix("/") ? resolvedRoot : resolvedRoot + "/")) {
            return .failure(.escapesImageRoot(path: path, detail: "a symlink resolves to \(real)"))
        }
        if let kind = FileKind.nonRegular(real) { return .failure(.notAFile(path: path, kind: kind)) }
        return .success(url)
    }

    /// The image file a manifest path names (`.`, `..` and `//` normalised).
    static func imageURL(root: URL, path: String) -> URL {
        root.appendingPathComponent(path).standardizedFileURL
    }

    enum Located {
        case success(URL)
        case failure(SkipReason)
    }

    /// `realpath(3)`: nil when the path (or a link's target) does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
