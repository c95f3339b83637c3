import CClipCSV
import CLIPEngine
import Foundation

/// One raw CSV record as libcsv returns it, with the physical line where it starts.
struct CSVRecord: Sendable, Hashable {
    /// 1-based physical line (counted in `\n`) where the record's first byte is.
    var line: Int
    /// The decoded fields, exactly as written (no whitespace trimming, quotes removed).
    var fields: [String]
}

/// Errors of the raw CSV layer; `Manifest.read` turns them into `ManifestError`s.
enum CSVReadError: Error, Equatable {
    case invalidUTF8(line: Int)
    case unterminatedQuote(line: Int)
    case parser(line: Int, message: String)
    /// A record longer than ``CSVRecordReader/maxRecordBytes``: no manifest row is that long,
    /// and without a bound a file with no line ends (or one huge quoted field) would grow
    /// memory until the machine gives out.
    case recordTooLong(line: Int, limit: Int)
    /// The file could not be opened, or is not a regular file (a FIFO would wait for a writer
    /// forever, a device like /dev/zero never ends).
    case unreadable(reason: String)
}

/// Streams a CSV file through libcsv in 64 KiB chunks.
///
/// Options: libcsv's non-strict mode (a stray quote inside an unquoted field is kept as a
/// character, as most real files expect) with its default space handling: spaces and tabs
/// around an unquoted field are trimmed and may stand before an opening quote (so
/// `a, "b"` gives `a`,`b`; Python's `csv.reader` would keep ` "b"`), spaces inside a field
/// are kept. Blank and whitespace-only lines are ignored. An unterminated quoted field at
/// the end of the file is an error (libcsv only reports it in strict mode, so the reader
/// inspects the parser state itself). A UTF-8 byte-order mark at the start is dropped.
///
/// Line numbers: the file is fed to libcsv one physical line at a time, so when a record
/// ends the reader knows the line it ended on; the start line is that minus the newlines
/// inside the record's (quoted) fields.
final class CSVRecordReader {
    static let chunkSize = 64 * 1024
    /// The longest record read (1 MiB; a FairFace row is about 40 bytes).
    static let maxRecordBytes = 1 << 20

    /// Reads records from `url`, calling `body` for each; `body` returns false to stop early.
    static func read(contentsOf url: URL, _ body: (CSVRecord) throws -> Bool) throws {
        let fd: Int32
        do { fd = try FileKind.openRegular(url).fd } catch { throw CSVReadError.unreadable(reason: error.reason) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? handle.close() }
        let state = State()
        var parser = csv_parser()
        guard csv_init(&parser, 0) == 0 else {
            throw CSVReadError.parser(line: 1, message: "libcsv could not be initialised")
        }
        defer { csv_free(&parser) }
        let context = Unmanaged.passUnretained(state).toOpaque()

        var first = true
        readLoop: while true {
            guard var chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty else { break }
            if first {
                first = false
                if chunk.starts(with: [0xEF, 0xBB, 0xBF]) { chunk.removeFirst(3) }
            }
            try chunk.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                var start = 0
                let bytes = buffer.bindMemory(to: UInt8.self)
                while start < bytes.count && !state.stopped {
                    // Feed up to and including the next '\n'.
                    var end = start
                    while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                    let endsLine = end < bytes.count
                    if endsLine { end += 1 }
                    let count = end - start
                    let fed = csv_parse(
                        &parser, buffer.baseAddress! + start, count,
                        fieldCallback, recordCallback, context)
                    if fed != count {
                        throw CSVReadError.parser(
                            line: state.physicalLine,
                            message: String(cString: csv_strerror(csv_error(&parser))))
                    }
                    if let failure = state.failure { throw failure }
                    try state.deliver(body)
                    if state.recordBytes + parser.entry_pos > maxRecordBytes {
                        throw CSVReadError.recordTooLong(line: max(1, state.physicalLine - state.newlinesInRecord), limit: maxRecordBytes)
                    }
                    if endsLine { state.physicalLine += 1 }
                    start = end
                }
            }
            if state.stopped { break readLoop }
        }
        if state.stopped { return }
        // libcsv's states: 2 = FIELD_BEGUN; `quoted` set while inside a quoted field.
        if parser.pstate == 2 && parser.quoted != 0 {
            let pending = UnsafeBufferPointer(start: parser.entry_buf, count: parser.entry_pos)
            let newlines = pending.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + state.newlinesInRecord
            throw CSVReadError.unterminatedQuote(line: max(1, state.physicalLine - newlines))
        }
        csv_fini(&parser, fieldCallback, recordCallback, context)
        if let failure = state.failure { throw failure }
        try state.deliver(body)
    }

    /// Reads every record of a file (for tests and small files).
    static func readAll(contentsOf url: URL) throws -> [CSVRecord] {
        var records: [CSVRecord] = []
        try read(contentsOf: url) {
            records.append($0); return true
        }
        return records
    }

    /// What the C callbacks accumulate.
    final class State {
        /// 1 + the newlines fed so far: the line of the byte being fed.
        var physicalLine = 1
        var fields: [[UInt8]] = []
        var newlinesInRecord = 0
        /// Bytes of the complete fields of the record being read.
        var recordBytes = 0
        var ready: [CSVRecord] = []
        var failure: CSVReadError?
        var stopped = false

        func addField(_ bytes: UnsafeRawPointer?, _ count: Int) {
            guard failure == nil else { return }
            if let bytes, count > 0 {
                let buffer = UnsafeRawBufferPointer(start: bytes, count: count)
                let field = [UInt8](buffer)
                newlinesInRecord += field.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                recordBytes += count + 1
                fields.append(field)
            } else {
                recordBytes += 1
                fields.append([])
            }
        }

        func endRecord() {
            guard failure == nil else { return }
            let line = physicalLine - newlinesInRecord
            var decoded: [String] = []
            decoded.reserveCapacity(fields.count)
            for field in fields {
                guard let string = String(validating: field, as: UTF8.self) else {
                    failure = .invalidUTF8(line: line)
                    return
                }
                decoded.append(string)
            }
            ready.append(CSVRecord(line: line, fields: decoded))
            fields.removeAll(keepingCapacity: true)
            newlinesInRecord = 0
            recordBytes = 0
        }

        func deliver(_ body: (CSVRecord) throws -> Bool) throws {
            guard !ready.isEmpty else { return }
            let records = ready
            ready.removeAll(keepingCapacity: true)
            for record in records where !stopped {
                if try !body(record) { stopped = true }
            }
        }
    }
}

private func fieldCallback(_ bytes: UnsafeMutableRawPointer?, _ count: Int, _ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<CSVRecordReader.State>.fromOpaque(context).takeUnretainedValue().addField(bytes, count)
}

private func recordCallback(_ terminator: Int32, _ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<CSVRecordReader.State>.fromOpaque(context).takeUnretainedValue().endRecord()
}
