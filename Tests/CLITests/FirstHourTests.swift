import AuditEngine
import Foundation
import Testing

/// Mistakes a new user makes in the first hour: each gives one line that names the file and
/// the likely cause, instead of a misleading consequence further down.
@Suite("first-hour mistakes", .serialized)
struct FirstHourTests {
    /// The lines the binary reports as errors.
    static func errorLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.hasPrefix("clip-audit:") || $0.hasPrefix("Error:") }
    }

    @Test("--cached-only with a mistyped cache path says the file does not exist and creates nothing")
    func cachedOnlyMissingCache() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(3)))
        try ws.writeAudit()
        let typo = ws.path("mergd.sqlite")
        let result = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--cached-only", "--cache", typo, "--threads", "1"])
        #expect(result.status != 0)
        let lines = Self.errorLines(result.stderr)
        #expect(lines.count == 1 && lines[0].contains(typo) && lines[0].contains("no such file"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: typo), "a cache that is only read was created")

        // A shard cache (read only) that does not exist is refused the same way, without --cached-only.
        let shard = ws.path("shard-9.sqlite")
        let second = try CLI.run(["run", ws.audit.path, "--output", ws.path("out2"), "--cache", ws.path("c.sqlite"), "--cache", shard, "--threads", "1"])
        #expect(second.status != 0)
        #expect(Self.errorLines(second.stderr).first?.contains(shard) == true, "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: shard))
    }
}
