import AuditEngine
import Foundation
import FuzzSupport

/// The audit-file loader: YAML (Yams), keys, designs, variants (`extends`), harm categories.
// SwiftPM links a debug executable with `main` = `FuzzAuditFile_main` (libFuzzer's own `main` is not used).
@_cdecl("FuzzAuditFile_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(test)
}

func test(_ input: UnsafeRawBufferPointer) {
    let url = FuzzSupport.file("audit.yaml", input)
    if let config = try? AuditConfig.load(contentsOf: url) {
        for design in config.designs {
            for c in design.classes { _ = design.prompts(forClass: c.name) }
        }
    }
}
