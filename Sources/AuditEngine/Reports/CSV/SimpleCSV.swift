import CLIPEngine
import Foundation

/// Reads the RFC 4180 CSV that ``CSVWriter`` writes: fields separated by commas, quoted when
/// they hold a comma, quote, CR or LF, quotes doubled inside; every record ends with `\n`
/// (`\r\n` is accepted too). Fields are kept exactly (no trimming).
public enum SimpleCSV {
    public struct Failure: Error { public var message: String }

    public static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var inQuotes = false
        var fieldStarted = false
        var scalars = Array(text.unicodeScalars)[...]
        var record1 = 1
        while let c = scalars.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if scalars.first == "\"" { scalars.removeFirst(); field.unicodeScalars.append("\"") } else { inQuotes = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty && !fieldStarted:
                inQuotes = true
                fieldStarted = true
            case ",":
                record.append(field); field = ""; fieldStarted = false
            case "\r" where scalars.first == "\n":
                continue
            case "\n":
                record.append(field); field = ""; fieldStarted = false
                records.append(record); record = []
                record1 += 1
            default:
                field.unicodeScalars.append(c)
                fieldStarted = true
            }
        }
        if inQuotes { throw Failure(message: "record \(record1): a quoted field is not closed") }
        if fieldStarted || !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
