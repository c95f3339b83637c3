import CLIPEngine
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a report CSV one record at a time, in memory bounded by the longest record, not by the
/// file: `card` and `diff` read a `predictions.csv` of hundreds of megabytes this way (a million
/// images and a few designs), where reading it whole took over ten times its size.
///
/// The format is ``SimpleCSV``'s (what ``CSVWriter`` writes): fields separated by commas, quoted
/// when they hold a comma, quote, CR or LF, quotes doubled inside; records end with `\n` or
/// `\r\n`; fields are kept exactly. Records are numbered from 1 (the header), as the errors of
/// the report folder's checks count them. The reader can go back to a record it passed
/// (``seek(to:)``), so a design's rows can be read again without keeping them.
final class CSVStream {
    /// Where a record starts: its byte offset and its number.
    struct Position: Sendable, Equatable {
        var offset: Int
        var record: Int
    }

    /// The longest record read (16 MiB): a predictions.csv line holds a manifest row (at most
    /// 1 MiB) and a few names; without a bound a file with one huge quoted field would grow
    /// memory with the file.
    static let maxRecordBytes = 16 << 20
    static let chunkSize = 1 << 16

    let url: URL
    private let fd: Int32
    private var chunk = [UInt8](repeating: 0, count: CSVStream.chunkSize)
    private var chunkCount = 0
    private var chunkIndex = 0
    /// The file offset of `chunk[0]`.
    private var chunkOffset = 0
    /// Where the next record starts.
    private(set) var position = Position(offset: 0, record: 1)

    /// Opens `url` as a regular file (a FIFO or a directory is refused without waiting, as
    /// ``ReportFile/contents(of:)`` refuses them).
    init(_ url: URL) throws {
        self.url = url
        do {
            fd = try FileKind.openRegular(url).fd
        } catch {
            throw ReportFile.readError(error, url)
        }
    }

    deinit { close(fd) }

    /// Goes back (or forward) to a record start that ``position`` gave.
    func seek(to position: Position) {
        self.position = position
        chunkOffset = position.offset
        chunkCount = 0
        chunkIndex = 0
    }

    /// The next byte, nil at the end of the file.
    private func nextByte() throws -> UInt8? {
        if chunkIndex == chunkCount {
            chunkOffset += chunkCount
            chunkIndex = 0
            chunkCount = 0
            while true {
                let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, off_t(chunkOffset)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AuditError(file: url.path, "cannot read: \(String(cString: strerror(errno)))")
                }
                chunkCount = n
                break
            }
            if chunkCount == 0 { return nil }
        }
        defer { chunkIndex += 1 }
        return chunk[chunkIndex]
    }

    private func peekByte() throws -> UInt8? {
        guard let byte = try nextByte() else { return nil }
        chunkIndex -= 1
        return byte
    }

    /// The next record (its start and its fields), nil at the end of the file.
    func next() throws -> (start: Position, fields: [String])? {
        let start = position
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var fieldStarted = false
        var bytes = 0
        func endField() throws {
            guard let text = String(validatingUTF8Bytes: field) else { throw AuditError(file: url.path, "not UTF-8 text") }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
            fieldStarted = false
        }
        while let byte = try nextByte() {
            bytes += 1
            if bytes > Self.maxRecordBytes {
                throw AuditError(file: url.path, "record \(start.record): longer than \(Self.maxRecordBytes) bytes")
            }
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if try peekByte() == UInt8(ascii: "\"") {
                        _ = try nextByte(); bytes += 1
                        field.append(byte)
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\"") where field.isEmpty && !fieldStarted:
                inQuotes = true
                fieldStarted = true
            case UInt8(ascii: ","):
                try endField()
            case UInt8(ascii: "\r"):
                // `\r\n` ends a record as `\n` does; a lone CR is text.
                if try peekByte() != UInt8(ascii: "\n") {
                    field.append(byte)
                    fieldStarted = true
                }
            case UInt8(ascii: "\n"):
                try endField()
                position = Position(offset: start.offset + bytes, record: start.record + 1)
                return (start, fields)
            default:
                field.append(byte)
                fieldStarted = true
            }
        }
        if inQuotes { throw AuditError(file: url.path, "record \(start.record): a quoted field is not closed") }
        position = Position(offset: start.offset + bytes, record: start.record + 1)
        guard fieldStarted || !field.isEmpty || !fields.isEmpty else { return nil }
        try endField()
        return (start, fields)
    }
}

extension String {
    /// The text of UTF-8 bytes, nil when they are not valid UTF-8.
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        // ASCII, the common case, needs no decoding check.
        if bytes.allSatisfy({ $0 < 0x80 }) {
            self.init(decoding: bytes, as: UTF8.self)
            return
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else { return nil }
        self = text
    }
}
