import AuditEngine
import Foundation
import FuzzSupport

/// The manifest reader (libcsv in 64 KiB chunks, line numbers, UTF-8 checks, ragged records).
// SwiftPM links a debug executable with `main` = `FuzzCSV_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzCSV_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    let url = FuzzSupport.file("manifest.csv", input)
    if let manifest = try? Manifest.read(contentsOf: url) {
        for row in manifest.rows { precondition(row.fields.count == manifest.columns.count) }
    }
}
