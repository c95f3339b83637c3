import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A YAML alias bomb kept `validate` and `run` busy for minutes (the control-character check
/// walked the expanded tree); it is one line, at once.
@Suite("YAML alias bomb")
struct AliasBombTests {
    @Test(arguments: ["validate", "run"])
    func aliasBombIsOneLineAtOnce(command: String) throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(2)))
        try ws.writeAudit()
        // Nine levels of nine aliases (9⁹ scalars) under an unknown key.
        var bomb = "lol:\n  - &a0 \"lol\"\n"
        for level in 1...9 { bomb += "  - &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", "))]\n" }
        try (try String(contentsOf: ws.audit, encoding: .utf8) + "\n" + bomb).write(to: ws.audit, atomically: true, encoding: .utf8)

        let arguments = command == "run" ? [command, ws.audit.path, "--output", ws.path("out")] : [command, ws.audit.path]
        let started = try CLI.start(arguments)
        let deadline = Date().addingTimeInterval(60)
        while started.0.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let finished = !started.0.isRunning
        // SIGKILL: a hung binary must not outlive the test.
        if !finished { kill(started.0.processIdentifier, SIGKILL) }
        let result = CLI.collect(started)
        #expect(finished, "\(command) still busy after 60 s")
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(
            result.stderr.contains("audit.yaml:")
                && result.stderr.contains("the alias *a5 makes YAML aliases stand for more than 100000 nodes"),
            "\(result.stderr)")
    }
}
