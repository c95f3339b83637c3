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

/// What `clip-audit validate` found: printed by the CLI, and reused by `run`.
public struct ValidationReport: Sendable {
    /// The manifest that was checked.
    public var manifestURL: URL
    /// Its columns.
    public var columns: [String]
    /// Data records read (usable and skipped, within `manifest.limit`).
    public var rowsRead: Int
    /// The rows an audit would score, in file order (held compactly; see ``UsableRows``).
    public var usableRows: UsableRows
    /// Every skipped row with its reason, in file order (ragged records first, as the reader reports them).
    public var skipped: [SkippedRow]
    /// Skipped rows counted by kind of reason, in `SkipKind.counts`'s order (most frequent first).
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

    /// Usable rows whose image `run` would skip (undecodable, over the pixel limit), with
    /// `run`'s reason; filled by `AuditValidator.checkImages`.
    public var undecodableImages: [SkippedEntry] = []
    /// Reference groups that had no usable row and were replaced by their attribute's largest
    /// group (only with `referenceFallback`, i.e. under `run --limit`).
    public var referenceFallbacks: [(key: String, wanted: String, used: String)] = []
    /// How the images were read, when they were.
    public var imageCheck: ImageCheckDepth?

    /// True when there are no errors.
    public var isValid: Bool { errors.isEmpty }

    /// What `run` will count as skipped, by kind and in its order (report.md's table, run.json's
    /// `skipped_by_reason`): the skipped rows and, once `AuditValidator.checkImages` has read
    /// them, the rows whose image it cannot use.
    public var skipCountsForRun: [SkipCount] {
        SkipKind.counts(skipped.lazy.map(\.reason.kind) + undecodableImages.lazy.map(\.kind))
    }

    /// The report as lines of text for the terminal, without ``errors``: `validate` prints each
    /// error once, on stderr, where a script or a terminal looks for it.
    public var lines: [String] {
        var out: [String] = []
        out.append("manifest: \(manifestURL.path) (\(columns.count) columns: \(columns.joined(separator: ", ")))")
        out.append("rows: \(rowsRead) read, \(usableRows.count) usable, \(skipped.count) skipped")
        for item in skippedByReason { out.append("  skipped, \(item.kind): \(item.count)") }
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
        if let imageCheck {
            let how = imageCheck == .decode ? "decoded" : "headers read"
            out.append("images: \(usableRows.count) \(how), \(undecodableImages.count) that run would skip")
            for entry in undecodableImages.prefix(10) {
                out.append("    line \(entry.line ?? 0) (\(entry.file ?? "?")): \(entry.reason)")
            }
            if undecodableImages.count > 10 { out.append("    ... and \(undecodableImages.count - 10) more") }
        }
        for warning in warnings { out.append("warning: \(warning)") }
        if !undecodableImages.isEmpty {
            out.append("warning: \(undecodableImages.count) image(s) cannot be decoded; run will skip them (--strict: fail)")
        }
        return out
    }
}

/// Checks an audit file against its manifest without loading the model.
public enum AuditValidator {
    /// How many missing image paths a report lists.
    public static let missingImageExampleCount = 5

    /// Reads the manifest named by `config` and checks it, one record at a time: what is kept is
    /// the compact table of usable rows and the skipped rows, not the manifest.
    ///
    /// - Throws: `AuditFileError` when the manifest does not exist (pointing at `manifest.path`),
    ///   `ManifestError` when it cannot be parsed.
    /// - Parameter referenceFallback: a reference group without usable rows becomes its
    ///   attribute's largest group, with a warning, instead of an error: for `run --limit`, whose
    ///   first N rows need not hold the reference group (a smoke test must still run).
    public static func validate(
        _ config: AuditConfig, checkImageFiles: Bool = true, referenceFallback: Bool = false
    ) throws -> ValidationReport {
        let url = config.manifest.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw config.error(at: "manifest.path", "manifest not found: \(url.path)")
        }
        var pass: ValidationPass?
        try Manifest.scan(
            contentsOf: url, limit: config.manifest.limit, fileColumn: config.manifest.fileColumn,
            header: {
                pass = ValidationPass(
                    config: config, manifestURL: url, columns: $0, checkImageFiles: checkImageFiles,
                    referenceFallback: referenceFallback)
            },
            row: { pass!.add($0) }, skipped: { pass!.add(skipped: $0) })
        return pass!.finish()
    }

    /// Checks an already-read manifest.
    public static func validate(_ config: AuditConfig, manifest: Manifest, checkImageFiles: Bool = true) -> ValidationReport {
        var pass = ValidationPass(config: config, manifestURL: manifest.url, columns: manifest.columns, checkImageFiles: checkImageFiles)
        for row in manifest.skipped { pass.add(skipped: row) }
        for row in manifest.rows { pass.add(row) }
        return pass.finish()
    }

    static func countReasons(_ skipped: [SkippedRow]) -> [SkipCount] {
        SkipKind.counts(skipped.lazy.map(\.reason.kind))
    }
}

/// One pass of ``AuditValidator`` over a manifest's records as they are read.
struct ValidationPass {
    let config: AuditConfig
    var report: ValidationReport
    /// Nil when the manifest lacks a column the audit needs: then records are only counted.
    let checker: RowChecker?
    /// Per design with a target: the column's index and its values that are no class, counted.
    var unknownTargets: [(design: Int, column: Int, classes: Set<String>, counts: [String: Int])] = []
    /// The first usable row naming each image file, by the hash of the file's path; a path whose
    /// hash an earlier, different path already has (rare) goes into `firstRowByPath` instead.
    var firstRowByHash: [Int: Int32] = [:]
    var firstRowByPath: [String: Int32] = [:]
    /// The hash of a path (a test makes every path collide).
    let pathHash: (String) -> Int
    /// See `AuditValidator.validate(_:checkImageFiles:referenceFallback:)`.
    let referenceFallback: Bool

    init(
        config: AuditConfig, manifestURL: URL, columns: [String], checkImageFiles: Bool, referenceFallback: Bool = false,
        pathHash: @escaping (String) -> Int = { $0.hashValue }
    ) {
        self.config = config
        self.referenceFallback = referenceFallback
        self.pathHash = pathHash
        report = ValidationReport(
            manifestURL: manifestURL, columns: columns, rowsRead: 0,
            usableRows: UsableRows(
                imageRoot: config.manifest.imageRoot, attributes: config.attributes,
                targets: config.targetColumns),
            skipped: [], skippedByReason: [], missingImageCount: 0,
            missingImageExamples: [], groupCounts: [], errors: [], warnings: [])
        let missing = RowChecker.missingColumns(config: config, columns: columns)
        guard missing.isEmpty,
            let checker = try? RowChecker(
                config: config, columns: columns,
                checkImageFiles: checkImageFiles)
        else {
            report.errors = missing
            self.checker = nil
            return
        }
        self.checker = checker
        if checkImageFiles {
            var isDirectory: ObjCBool = false
            let root = config.manifest.imageRoot
            if !FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
                let key = config.sourceLines["manifest.image_root"] != nil ? "manifest.image_root" : "manifest.path"
                report.errors.append(config.error(at: key, "image_root is not a folder: \(root.path)"))
            }
        }
        for (index, design) in config.designs.enumerated() {
            guard let target = design.target, let column = columns.firstIndex(of: target) else { continue }
            unknownTargets.append((index, column, Set(design.classNames), [:]))
        }
    }

    /// A record with the wrong number of fields.
    mutating func add(skipped row: SkippedRow) {
        report.rowsRead += 1
        report.skipped.append(row)
    }

    mutating func add(_ row: ManifestRow) {
        report.rowsRead += 1
        guard let checker else { return }
        // Target values must be classes of their designs (over every row that has a value).
        for index in unknownTargets.indices {
            let value = row.fields[unknownTargets[index].column].trimmingBlanks
            if !value.isEmpty && !unknownTargets[index].classes.contains(value) { unknownTargets[index].counts[value, default: 0] += 1 }
        }
        switch checker.check(row) {
        case .usable(let usable):
            // The first row naming an image file counts; later ones are duplicates.
            let path = usable.imageURL.path
            if let first = firstRow(naming: path) {
                let same = report.usableRows.hasSameValues(usable, as: first)
                report.skipped.append(
                    SkippedRow(
                        line: row.line, file: usable.file,
                        reason: .duplicate(
                            path: usable.file, firstLine: report.usableRows.line(first),
                            sameLabels: same)))
                return
            }
            let index = Int32(report.usableRows.count)
            let hash = pathHash(path)
            if firstRowByHash[hash] == nil { firstRowByHash[hash] = index } else { firstRowByPath[path] = index }
            report.usableRows.append(usable)
        case .skipped(let skipped):
            report.skipped.append(skipped)
            if case .missingImage(let path) = skipped.reason {
                report.missingImageCount += 1
                if report.missingImageExamples.count < AuditValidator.missingImageExampleCount {
                    report.missingImageExamples.append(path)
                }
            }
        }
    }

    /// `prefix`, then where the first missing image was looked for and a hint at `image_root`
    /// (naming the folder the manifest's paths and image_root both have, when they do).
    private func imageRootHint(prefix: String) -> String {
        let root = config.manifest.imageRoot
        guard let first = report.missingImageExamples.first else { return prefix }
        let resolved = RowChecker.imageURL(root: root, path: first).path
        var text = "\(prefix); the first, \(first), was looked for at \(resolved)"
        let leading = first.split(separator: "/").first.map(String.init) ?? ""
        if !leading.isEmpty, leading == root.standardizedFileURL.lastPathComponent {
            text += " — the paths already start with \(leading)/, which image_root (\(root.path)) also ends with"
        }
        return text + "; check manifest.image_root (the paths in the manifest are relative to it)"
    }

    /// The usable row that already names the image file at `path`, if any.
    private func firstRow(naming path: String) -> Int? {
        guard let index = firstRowByHash[pathHash(path)].map(Int.init) else { return nil }
        if report.usableRows.imageURL(index).path == path { return index }
        return firstRowByPath[path].map(Int.init)
    }

    func finish() -> ValidationReport {
        var report = self.report
        guard checker != nil else {
            report.skippedByReason = AuditValidator.countReasons(report.skipped)
            return report
        }
        let rows = report.usableRows
        for (index, _, _, unknown) in unknownTargets where !unknown.isEmpty {
            let design = config.designs[index]
            let listed = unknown.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\"\($0.key)\" (\($0.value))" }.joined(separator: ", ")
            let classList = design.classNames.map { "\"\($0)\"" }.joined(separator: ", ")
            report.errors.append(
                config.error(
                    at: "designs[\(index)].target",
                    "unknown values in column \"\(design.target!)\" for design \"\(design.name)\": \(listed); classes are: \(classList)"))
        }
        report.skipped.sort { $0.line < $1.line }
        report.skippedByReason = AuditValidator.countReasons(report.skipped)
        let mostImagesMissing = report.missingImageCount > 0 && report.missingImageCount * 2 > report.rowsRead
        if mostImagesMissing {
            // Said once (with no usable row, by the error below), with the path the first row
            // resolved to: a doubled folder (image_root `data/val` + `val/1.jpg`) shows only there.
            if !rows.isEmpty {
                report.warnings.append(imageRootHint(prefix: "\(report.missingImageCount) of \(report.rowsRead) rows' images not found"))
            }
        } else if report.missingImageCount > 0 {
            report.warnings.append(
                "\(report.missingImageCount) image file(s) not found under \(config.manifest.imageRoot.path), e.g. "
                    + report.missingImageExamples.joined(separator: ", "))
        }

        // With no usable row every group check below would fail as well, and their errors
        // (a reference group "has no usable rows") would come before the cause.
        if rows.isEmpty {
            let file = report.manifestURL.lastPathComponent
            if mostImagesMissing {
                report.errors.append(
                    config.error(
                        at: config.sourceLines["manifest.image_root"] != nil ? "manifest.image_root" : "manifest.path",
                        imageRootHint(
                            prefix: "no usable rows in \(file): \(report.missingImageCount) of \(report.rowsRead) rows' images not found")))
            } else {
                let reasons = report.skippedByReason.terminalText
                let why = report.rowsRead == 0 ? "it has no data rows" : "all \(report.rowsRead) rows skipped (\(reasons))"
                report.errors.append(config.error(at: "manifest.path", "no usable rows in \(file): \(why)"))
            }
            return report
        }

        // Group sizes over usable rows.
        for slice in config.slices {
            let attributes = slice.attributes, key = slice.csvText
            let columns = attributes.compactMap { config.attributes.firstIndex(of: $0) }
            var counts: [String: Int] = [:]
            if columns.count == attributes.count {
                let grouping = rows.grouping(columns: columns)
                for (group, size) in zip(grouping.groups, grouping.sizes) {
                    counts[slice.groupText(rows.values(of: group, columns: columns)), default: 0] += size
                }
            }
            let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            report.groupCounts += sorted.map { GroupCount(attribute: key, group: $0.key, count: $0.value) }
            let small = sorted.filter { $0.value < config.minGroupSize }
            if !small.isEmpty {
                report.warnings.append(
                    "\(key): \(small.count) group(s) smaller than min_group_size \(config.minGroupSize): "
                        + small.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
            }
            if let reference = config.referenceGroups[key], counts[reference] == nil {
                if referenceFallback, let largest = sorted.first {
                    report.referenceFallbacks.append((key, reference, largest.key))
                    report.warnings.append(
                        "\(key): reference group \"\(reference)\" has no usable rows within the limit; "
                            + "the largest group, \"\(largest.key)\" (\(largest.value)), is the reference instead")
                    continue
                }
                report.errors.append(
                    config.error(
                        at: "reference_groups.\(key)",
                        "reference group \"\(reference)\" has no usable rows (groups: \(sorted.map(\.key).joined(separator: ", ")))"))
            }
        }

        // Classes of target designs that no usable row has as its truth.
        for design in config.designs {
            guard let target = design.target, let column = rows.targets.firstIndex(of: target) else { continue }
            let seen = Set(rows.values(column: rows.attributes.count + column))
            let unseen = design.classNames.filter { !seen.contains($0) }
            if !unseen.isEmpty {
                report.warnings.append(
                    "design \"\(design.name)\": no usable row has class "
                        + unseen.map { "\"\($0)\"" }.joined(separator: ", ") + " as its \(target)")
            }
        }
        return report
    }
}
