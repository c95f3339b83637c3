import Foundation

/// How many usable rows fall in one group of an attribute or intersection.
public struct GroupCount: Sendable, Hashable {
    /// The attribute (`race`) or intersection key (`race|gender`).
    public let attribute: String
    /// The group (`White`, or `White|Male` for an intersection).
    public let group: String
    /// Usable rows in the group.
    public let count: Int
}

/// How many rows were skipped for one kind of reason.
public struct SkipCount: Sendable, Hashable {
    /// `SkipReason.category`, e.g. `image not found`.
    public let category: String
    /// Rows skipped for it.
    public let count: Int
}

/// What `clip-audit validate` found: printed by the CLI, and reused by `run`.
public struct ValidationReport: Sendable {
    /// The manifest that was checked.
    public var manifestURL: URL
    /// Its columns.
    public var columns: [String]
    /// Data records read (usable and skipped, within `manifest.limit`).
    public var rowsRead: Int
    /// The rows an audit would score, in file order.
    public var usableRows: [UsableRow]
    /// Every skipped row with its reason, in file order (ragged records first, as the reader reports them).
    public var skipped: [SkippedRow]
    /// Skipped rows counted by kind of reason, most frequent first.
    public var skippedByReason: [SkipCount]
    /// Rows whose image file does not exist.
    public var missingImageCount: Int
    /// The first few missing image paths.
    public var missingImageExamples: [String]
    /// Usable rows per group of every attribute, then every intersection (largest first).
    public var groupCounts: [GroupCount]
    /// Problems that make the audit wrong (unknown label values, missing columns, absent reference groups).
    public var errors: [AuditFileError]
    /// Things worth knowing that do not stop an audit (small groups, missing images, unseen classes).
    public var warnings: [String]

    /// True when there are no errors.
    public var isValid: Bool { errors.isEmpty }

    /// The report as lines of text for the terminal.
    public var lines: [String] {
        var out: [String] = []
        out.append("manifest: \(manifestURL.path) (\(columns.count) columns: \(columns.joined(separator: ", ")))")
        out.append("rows: \(rowsRead) read, \(usableRows.count) usable, \(skipped.count) skipped")
        for item in skippedByReason { out.append("  skipped, \(item.category): \(item.count)") }
        for row in skipped.prefix(10) { out.append("    \(row)") }
        if skipped.count > 10 { out.append("    ... and \(skipped.count - 10) more") }
        var current = ""
        for group in groupCounts {
            if group.attribute != current {
                current = group.attribute
                out.append("\(current):")
            }
            out.append("  \(group.group): \(group.count)")
        }
        for warning in warnings { out.append("warning: \(warning)") }
        for error in errors { out.append("error: \(error)") }
        return out
    }
}

/// Checks an audit file against its manifest without loading the model.
public enum AuditValidator {
    /// How many missing image paths a report lists.
    public static let missingImageExampleCount = 5

    /// Reads the manifest named by `config` and checks it.
    ///
    /// - Throws: `AuditFileError` when the manifest does not exist (pointing at `manifest.path`),
    ///   `ManifestError` when it cannot be parsed.
    public static func validate(_ config: AuditConfig, checkImageFiles: Bool = true) throws -> ValidationReport {
        let url = config.manifest.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw config.error(at: "manifest.path", "manifest not found: \(url.path)")
        }
        let manifest = try Manifest.read(contentsOf: url, limit: config.manifest.limit, fileColumn: config.manifest.fileColumn)
        return validate(config, manifest: manifest, checkImageFiles: checkImageFiles)
    }

    /// Checks an already-read manifest.
    public static func validate(_ config: AuditConfig, manifest: Manifest, checkImageFiles: Bool = true) -> ValidationReport {
        var report = ValidationReport(manifestURL: manifest.url, columns: manifest.columns,
                                      rowsRead: manifest.rows.count + manifest.skipped.count, usableRows: [],
                                      skipped: manifest.skipped, skippedByReason: [], missingImageCount: 0,
                                      missingImageExamples: [], groupCounts: [], errors: [], warnings: [])
        let missing = RowChecker.missingColumns(config: config, columns: manifest.columns)
        guard missing.isEmpty, let checker = try? RowChecker(config: config, columns: manifest.columns,
                                                             checkImageFiles: checkImageFiles) else {
            report.errors = missing
            report.skippedByReason = countReasons(report.skipped)
            return report
        }
        if checkImageFiles {
            var isDirectory: ObjCBool = false
            let root = config.manifest.imageRoot
            if !FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
                let key = config.sourceLines["manifest.image_root"] != nil ? "manifest.image_root" : "manifest.path"
                report.errors.append(config.error(at: key, "image_root is not a folder: \(root.path)"))
            }
        }

        // Target values must be classes of their designs (over every row that has a value).
        for (index, design) in config.designs.enumerated() {
            guard let target = design.target, let column = manifest.columnIndex(target) else { continue }
            var unknown: [String: Int] = [:]
            let classes = Set(design.classNames)
            for row in manifest.rows {
                let value = row.fields[column].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty && !classes.contains(value) { unknown[value, default: 0] += 1 }
            }
            if !unknown.isEmpty {
                let listed = unknown.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .map { "\"\($0.key)\" (\($0.value))" }.joined(separator: ", ")
                let classList = design.classNames.map { "\"\($0)\"" }.joined(separator: ", ")
                report.errors.append(config.error(at: "designs[\(index)].target",
                    "unknown values in column \"\(target)\" for design \"\(design.name)\": \(listed); classes are: \(classList)"))
            }
        }

        // The first row naming an image file counts; later ones are duplicates.
        var firstRow: [String: Int] = [:]
        for row in manifest.rows {
            switch checker.check(row) {
            case .usable(let usable):
                let key = usable.imageURL.path
                if let index = firstRow[key] {
                    let first = report.usableRows[index]
                    let same = first.attributes == usable.attributes && first.targets == usable.targets
                    report.skipped.append(SkippedRow(line: row.line, file: usable.file,
                                                     reason: .duplicate(path: usable.file, firstLine: first.line, sameLabels: same)))
                    continue
                }
                firstRow[key] = report.usableRows.count
                report.usableRows.append(usable)
            case .skipped(let skipped):
                report.skipped.append(skipped)
                if case .missingImage(let path) = skipped.reason {
                    report.missingImageCount += 1
                    if report.missingImageExamples.count < missingImageExampleCount { report.missingImageExamples.append(path) }
                }
            }
        }
        report.skipped.sort { $0.line < $1.line }
        report.skippedByReason = countReasons(report.skipped)
        if report.missingImageCount > 0 {
            report.warnings.append("\(report.missingImageCount) image file(s) not found under \(config.manifest.imageRoot.path), e.g. "
                + report.missingImageExamples.joined(separator: ", "))
        }

        // Group sizes over usable rows.
        let groupings = config.attributes.map { [$0] } + config.intersections
        for attributes in groupings {
            let key = AuditConfig.intersectionKey(attributes)
            var counts: [String: Int] = [:]
            for row in report.usableRows {
                if let group = row.group(of: attributes) { counts[group, default: 0] += 1 }
            }
            let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            report.groupCounts += sorted.map { GroupCount(attribute: key, group: $0.key, count: $0.value) }
            let small = sorted.filter { $0.value < config.minGroupSize }
            if !small.isEmpty {
                report.warnings.append("\(key): \(small.count) group(s) smaller than min_group_size \(config.minGroupSize): "
                    + small.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
            }
            if let reference = config.referenceGroups[key], counts[reference] == nil {
                report.errors.append(config.error(at: "reference_groups.\(key)",
                    "reference group \"\(reference)\" has no usable rows (groups: \(sorted.map(\.key).joined(separator: ", ")))"))
            }
        }

        // Classes of target designs that no usable row has as its truth.
        for design in config.designs {
            guard let target = design.target else { continue }
            let seen = Set(report.usableRows.compactMap { $0.targets[target] })
            let unseen = design.classNames.filter { !seen.contains($0) }
            if !unseen.isEmpty {
                report.warnings.append("design \"\(design.name)\": no usable row has class "
                    + unseen.map { "\"\($0)\"" }.joined(separator: ", ") + " as its \(target)")
            }
        }
        if report.usableRows.isEmpty {
            report.errors.append(config.error(at: "manifest.path", "no usable rows in \(manifest.url.lastPathComponent)"))
        }
        return report
    }

    static func countReasons(_ skipped: [SkippedRow]) -> [SkipCount] {
        var counts: [String: Int] = [:]
        for row in skipped { counts[row.reason.category, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { SkipCount(category: $0.key, count: $0.value) }
    }
}
