import AuditEngine
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGKILL at any point leaves no half-written report file and an intact
/// cache; the next run resumes from the cache and writes the same report as an uninterrupted
/// run. Two runs sharing one cache at the same time corrupt nothing.
@Suite("interrupted and concurrent runs", .serialized)
struct InterruptionTests {
    static func imageCount(_ cache: String) -> Int {
        guard FileManager.default.fileExists(atPath: cache), let c = try? EmbeddingCache(url: URL(fileURLWithPath: cache), readOnly: true)
        else { return 0 }
        return (try? c.counts().images) ?? 0
    }

    static func expectIntact(_ cache: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let c = try EmbeddingCache(url: URL(fileURLWithPath: cache))
        #expect(try c.integrityCheck() == "ok", sourceLocation: sourceLocation)
    }

    @Test("killed while encoding: the cache is intact and the resumed run's report equals an uninterrupted run's")
    func killDuringEncoding() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(40)))
        try ws.writeAudit()
        let reference = try CLI.run(["run", ws.audit.path, "--output", ws.path("reference"), "--no-cache", "--threads", "1"])
        #expect(reference.status == 0, "\(reference.stderr)")

        let cache = ws.path("cache.sqlite")
        let output = ws.path("report")
        // Kill three times, each once the cache has grown by a few more images.
        var killedAt: [Int] = []
        for target in [5, 15, 25] {
            let started = try CLI.start(["run", ws.audit.path, "--output", output, "--cache", cache, "--threads", "1", "--batch", "4"])
            let deadline = Date().addingTimeInterval(60)
            while Self.imageCount(cache) < target && started.0.isRunning && Date() < deadline { usleep(20_000) }
            kill(started.0.processIdentifier, SIGKILL)
            let result = CLI.collect(started)
            #expect(result.status == SIGKILL, "the run ended before it could be killed: \(result.stderr)")
            killedAt.append(Self.imageCount(cache))
            try Self.expectIntact(cache)
            #expect(!FileManager.default.fileExists(atPath: output + "/run.json"))
        }
        #expect(killedAt == killedAt.sorted() && killedAt.last! < 40, "cache counts at the kills: \(killedAt)")

        let resumed = try CLI.run(["run", ws.audit.path, "--output", output, "--cache", cache, "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("\(40 - killedAt.last!) image(s) encoded, \(killedAt.last!) from the cache"), "\(resumed.stderr)")
        try expectSameReport(URL(fileURLWithPath: ws.path("reference")), URL(fileURLWithPath: output))
        try Self.expectIntact(cache)
    }

    @Test("killed while the report is written: every file is whole (old or new), run.json only with a complete set")
    func killDuringReportWriting() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(12)))
        try ws.writeAudit()
        let cache = ws.path("cache.sqlite")
        let output = URL(fileURLWithPath: ws.path("report"))
        // An older report (fewer rows) in the folder, and the new one for reference.
        let old = try CLI.run(["run", ws.audit.path, "--output", ws.path("old"), "--cache", cache, "--limit", "6", "--threads", "1"])
        let new = try CLI.run(["run", ws.audit.path, "--output", ws.path("new"), "--cache", cache, "--threads", "1"])
        #expect(old.status == 0 && new.status == 0)
        let names = ReportWriter.fileNames // run.json last
        func contents(_ folder: String) throws -> [String: Data] {
            try Dictionary(
                uniqueKeysWithValues: names.map {
                    ($0, try Data(contentsOf: URL(fileURLWithPath: ws.path(folder)).appendingPathComponent($0)))
                })
        }
        let oldFiles = try contents("old"), newFiles = try contents("new")

        var landedMidWrite = 0
        for attempt in 0..<8 {
            try? FileManager.default.removeItem(at: output)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: ws.path("old")), to: output)
            let started = try CLI.start(["run", ws.audit.path, "--output", output.path, "--cache", cache, "--threads", "1"])
            // Every embedding is cached, so the run goes quickly to writing; kill it once the old
            // run.json is gone (the writer has begun), after a few more spins on later attempts.
            let runJSON = output.appendingPathComponent("run.json").path
            while started.0.isRunning && access(runJSON, F_OK) == 0 {}
            for _ in 0..<(attempt * 2_000) { _ = access(output.path, F_OK) }
            kill(started.0.processIdentifier, SIGKILL)
            _ = CLI.collect(started)

            var sawNew = 0
            for name in names {
                let file = output.appendingPathComponent(name)
                guard let data = try? Data(contentsOf: file) else {
                    #expect(name == "run.json", "\(name) is missing")
                    continue
                }
                if name == "run.json" {
                    // Its timings differ from the reference's: whole means it parses and matches otherwise.
                    let whole =
                        data == oldFiles[name]
                        || (try? comparableRunJSON(output)) == (try? comparableRunJSON(URL(fileURLWithPath: ws.path("new"))))
                    #expect(whole, "run.json is neither the old nor a new one (half-written?)")
                    continue
                }
                #expect(data == oldFiles[name] || data == newFiles[name], "\(name) is neither the old nor the new file (half-written?)")
                if data == newFiles[name] { sawNew += 1 }
            }
            if FileManager.default.fileExists(atPath: runJSON) {
                let json = try Data(contentsOf: URL(fileURLWithPath: runJSON))
                if json != oldFiles["run.json"] {
                    for name in names.dropLast() {
                        #expect(
                            try Data(contentsOf: output.appendingPathComponent(name)) == newFiles[name],
                            "run.json is present but \(name) is old")
                    }
                }
            } else if sawNew < names.count - 1 {
                landedMidWrite += 1
            }
            // The next run completes and cleans up what the killed writer left.
            let rerun = try CLI.run(["run", ws.audit.path, "--output", output.path, "--cache", cache, "--threads", "1"])
            #expect(rerun.status == 0, "\(rerun.stderr)")
            try expectSameReport(URL(fileURLWithPath: ws.path("new")), output)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: output.path).filter {
                !names.contains($0) && $0 != ReportCharts.folder && $0 != OutputFolder.ledgerName("report")
            }
            #expect(leftovers.isEmpty, "left in the report folder: \(leftovers)")
            try Self.expectIntact(cache)
        }
        #expect(landedMidWrite > 0, "no kill landed while the report was being written")
    }

    @Test("two runs sharing one cache at once both succeed, and the cache stays intact")
    func concurrentRunsShareACache() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(24)))
        try ws.writeAudit()
        let cache = ws.path("shared.sqlite")
        let a = try CLI.start(["run", ws.audit.path, "--output", ws.path("a"), "--cache", cache, "--threads", "1", "--batch", "2"])
        let b = try CLI.start(["run", ws.audit.path, "--output", ws.path("b"), "--cache", cache, "--threads", "1", "--batch", "3"])
        let ra = CLI.collect(a), rb = CLI.collect(b)
        #expect(ra.status == 0, "\(ra.stderr)")
        #expect(rb.status == 0, "\(rb.stderr)")
        try Self.expectIntact(cache)
        #expect(Self.imageCount(cache) == 24)
        try expectSameReport(URL(fileURLWithPath: ws.path("a")), URL(fileURLWithPath: ws.path("b")))
        let again = try CLI.run(["run", ws.audit.path, "--output", ws.path("c"), "--cache", cache, "--cached-only", "--threads", "1"])
        #expect(again.status == 0, "\(again.stderr)")
        try expectSameReport(URL(fileURLWithPath: ws.path("a")), URL(fileURLWithPath: ws.path("c")))
    }
}
