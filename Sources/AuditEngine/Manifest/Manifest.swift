import Foundation

/// A labelled image manifest: a CSV file with a header row (FairFace's
/// `file,age,gender,race,service_test` works as it is).
///
/// Records with a different number of fields than the header are not fatal: they are
/// listed in `skipped` with the reason. A file that cannot be read, has no header, an
/// unterminated quoted field or invalid UTF-8 throws a `ManifestError`.
public struct Manifest: Sendable {
    /// The file that was read.
    public let url: URL
    /// The header's column names (surrounding whitespace trimmed, UTF-8 BOM removed).
    public let columns: [String]
    /// The data records that have exactly one field per column, in file order.
    public let rows: [ManifestRow]
    /// The data records that were not usable, with the reason.
    public let skipped: [SkippedRow]

    /// Creates a manifest from parts (for tests and callers that build manifests in memory).
    public init(url: URL, columns: [String], rows: [ManifestRow], skipped: [SkippedRow] = []) {
        self.url = url
        self.columns = columns
        self.rows = rows
        self.skipped = skipped
    }

    /// The index of a column, or nil when the header has no such column.
    public func columnIndex(_ name: String) -> Int? {
        columns.firstIndex(of: name)
    }

    /// The value of `column` in `row`, or nil when there is no such column.
    public func value(of column: String, in row: ManifestRow) -> String? {
        guard let index = columnIndex(column), index < row.fields.count else { return nil }
        return row.fields[index]
    }

    /// Reads a whole manifest into memory, streaming the file in 64 KiB chunks through libcsv
    /// (see ``scan(contentsOf:limit:fileColumn:header:row:skipped:)`` to see each record once
    /// without keeping them).
    ///
    /// - Parameters:
    ///   - limit: read only the first `limit` data records (usable or skipped); 0 reads all.
    ///   - fileColumn: the image-path column, used to name skipped records.
    /// - Throws: `ManifestError` for an unreadable file, a missing header, duplicate column
    ///   names, an unterminated quoted field or invalid UTF-8.
    public static func read(contentsOf url: URL, limit: Int = 0, fileColumn: String = "file") throws -> Manifest {
        var columns: [String] = []
        var rows: [ManifestRow] = []
        var skipped: [SkippedRow] = []
        try scan(
            contentsOf: url, limit: limit, fileColumn: fileColumn,
            header: { columns = $0 }, row: { rows.append($0) }, skipped: { skipped.append($0) })
        return Manifest(url: url, columns: columns, rows: rows, skipped: skipped)
    }

    /// Streams a manifest: `header` once with the columns, then, in file order, `row` for each
    /// data record with one field per column and `skipped` for each other one. Nothing is kept,
    /// so a manifest of any length is read in constant memory.
    ///
    /// - Parameters and errors: as ``read(contentsOf:limit:fileColumn:)``.
    public static func scan(
        contentsOf url: URL, limit: Int = 0, fileColumn: String = "file",
        header: ([String]) -> Void, row: (ManifestRow) -> Void,
        skipped: (SkippedRow) -> Void
    ) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ManifestError(url: url, line: nil, message: "manifest not found")
        }
        var columns: [String]?
        var fileIndex: Int?
        var duplicate: ManifestError?
        var records = 0
        do {
            try CSVRecordReader.read(contentsOf: url) { record in
                // A record of one empty field is a line holding only `""`: treat as blank.
                if record.fields.count == 1 && record.fields[0].allSatisfy(\.isWhitespace) { return true }
                guard let names = columns else {
                    let names = record.fields.map(\.trimmingBlanks)
                    var seen = Set<String>()
                    for name in names where !seen.insert(name).inserted {
                        duplicate = ManifestError(url: url, line: record.line, message: "duplicate column \"\(name)\" in the header")
                        return false
                    }
                    columns = names
                    fileIndex = names.firstIndex(of: fileColumn)
                    header(names)
                    return true
                }
                records += 1
                if record.fields.count == names.count {
                    row(ManifestRow(line: record.line, fields: record.fields))
                } else {
                    let file = fileIndex.flatMap { $0 < record.fields.count ? record.fields[$0] : nil }
                    skipped(
                        SkippedRow(
                            line: record.line, file: file,
                            reason: .wrongFieldCount(expected: names.count, found: record.fields.count)))
                }
                return limit <= 0 || records < limit
            }
        } catch let error as CSVReadError {
            switch error {
            case .invalidUTF8(let line):
                throw ManifestError(url: url, line: line, message: "invalid UTF-8 in the record starting on this line")
            case .unterminatedQuote(let line):
                throw ManifestError(
                    url: url, line: line,
                    message: "unterminated quoted field (the record starting on this line runs to the end of the file)")
            case .parser(let line, let message):
                throw ManifestError(url: url, line: line, message: "CSV parse error: \(message)")
            case .recordTooLong(let line, let limit):
                throw ManifestError(
                    url: url, line: line,
                    message: "the record starting on this line is longer than \(limit / 1024) KiB; is this a CSV manifest?")
            case .unreadable(let reason):
                throw ManifestError(url: url, line: nil, message: "cannot read the manifest: \(reason)")
            }
        } catch {
            throw ManifestError(url: url, line: nil, message: "cannot read the manifest: \(error.localizedDescription)")
        }
        if let duplicate { throw duplicate }
        guard columns != nil else {
            throw ManifestError(url: url, line: nil, message: "the manifest is empty (no header row)")
        }
    }
}

/// One data record of a manifest.
public struct ManifestRow: Sendable, Hashable {
    /// 1-based physical line where the record starts (a quoted field may span lines).
    public let line: Int
    /// The fields, one per manifest column, as written (quotes removed).
    public let fields: [String]

    /// Creates a row.
    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// Why a manifest row was left out of an audit.
public enum SkipReason: Sendable, Hashable, CustomStringConvertible {
    /// The record has a different number of fields than the header.
    case wrongFieldCount(expected: Int, found: Int)
    /// An attribute, target or file column is empty in this row.
    case emptyValue(column: String)
    /// The image path leaves `image_root` (absolute, `..`, or a symlink resolving outside).
    case escapesImageRoot(path: String, detail: String)
    /// The image file does not exist.
    case missingImage(path: String)
    /// The image path names a directory, a FIFO, a device or a socket.
    case notAFile(path: String, kind: String)
    /// An earlier row already names the same image file (after normalising `.`, `..` and `//`):
    /// counting it twice would weigh its groups twice. `sameLabels` is false when the two rows
    /// disagree on an attribute or target value (the first row's labels are the ones used).
    case duplicate(path: String, firstLine: Int, sameLabels: Bool)

    /// The kind the summaries count the row under.
    public var kind: SkipKind {
        switch self {
        case .wrongFieldCount: return .wrongFieldCount
        case .emptyValue(let column): return .emptyValue(column: column)
        case .escapesImageRoot: return .outsideImageRoot
        case .missingImage: return .imageNotFound
        case .notAFile: return .notAFile
        case .duplicate(_, _, let same): return same ? .duplicateRow : .duplicateWithOtherLabels
        }
    }

    /// One line saying why.
    public var description: String {
        switch self {
        case let .wrongFieldCount(expected, found):
            return "expected \(expected) fields, found \(found)"
        case let .emptyValue(column):
            return "empty value in column \"\(column)\""
        case let .escapesImageRoot(path, detail):
            return "image path \"\(path)\" is outside image_root (\(detail))"
        case let .missingImage(path):
            return "image not found: \(path)"
        case let .notAFile(path, kind):
            return "image path \"\(path)\" is \(kind), not a file"
        case let .duplicate(path, firstLine, sameLabels):
            return sameLabels
                ? "duplicate of line \(firstLine) (image \(path))"
                : "image \(path) already listed on line \(firstLine) with other labels (the first row counts)"
        }
    }
}

/// A manifest row that was left out, and why.
public struct SkippedRow: Sendable, Hashable, CustomStringConvertible {
    /// 1-based physical line where the record starts.
    public let line: Int
    /// The image path field, when known.
    public let file: String?
    /// Why it was skipped.
    public let reason: SkipReason

    /// Creates a skipped-row record.
    public init(line: Int, file: String?, reason: SkipReason) {
        self.line = line
        self.file = file
        self.reason = reason
    }

    /// `line 12 (val/3.jpg): expected 5 fields, found 4`.
    public var description: String {
        "line \(line)\(file.map { " (\($0))" } ?? ""): \(reason)"
    }
}

/// A fatal problem with a manifest file; `description` is one line naming the file and row.
public struct ManifestError: Error, CustomStringConvertible, Sendable {
    /// The manifest file.
    public let url: URL
    /// 1-based line of the offending record, when known.
    public let line: Int?
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(url: URL, line: Int?, message: String) {
        self.url = url
        self.line = line
        self.message = message
    }

    /// `fairface_label_val.csv:12: invalid UTF-8 in the record starting on this line`.
    public var description: String {
        "\(url.lastPathComponent)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}
