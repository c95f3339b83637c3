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

    /// Whether process `pid` is stopped (by a signal): the state letter of /proc/PID/stat.
    static func isStopped(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first == "T"
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
        let chart = try #require(
            try FileManager.default.contentsOfDirectory(atPath: ws.path("new/\(ReportCharts.folder)")).sorted().first)
        let ledger = OutputFolder.ledgerName("report")

        // The run stops itself just before renaming a given file into place (its temporary copy
        // written: a test-only hook in AtomicFile) and is killed there, so each kill lands at a
        // known point mid-write, every time: the ledger (written first), a chart, and each report file.
        for stop in [ledger, chart] + names {
            try? FileManager.default.removeItem(at: output)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: ws.path("old")), to: output)
            let started = try CLI.start(
                ["run", ws.audit.path, "--output", output.path, "--cache", cache, "--threads", "1"],
                environment: ["CLIP_AUDIT_TEST_STOP_BEFORE_RENAME": stop])
            let pid = started.0.processIdentifier
            let deadline = Date().addingTimeInterval(120)
            while started.0.isRunning && !Self.isStopped(pid) && Date() < deadline { usleep(5_000) }
            let stopped = Self.isStopped(pid)
            // What the writer left mid-write: the temporary copy of `stop`, not yet renamed.
            let folder = stop == chart ? output.appendingPathComponent(ReportCharts.folder) : output
            let temporaries = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter {
                $0.hasPrefix(".\(stop).") && $0.hasSuffix(".tmp")
            }
            kill(pid, SIGKILL)
            let result = CLI.collect(started)
            try #require(stopped, "the run did not stop before renaming \(stop): \(result.stderr)")
            #expect(result.status == SIGKILL, "\(stop): the run ended before it could be killed")
            #expect(temporaries.count == 1, "\(stop): temporary files at the kill: \(temporaries)")

            var sawNew = 0, sawOld = 0
            for name in names {
                let file = output.appendingPathComponent(name)
                guard let data = try? Data(contentsOf: file) else {
                    // The writer removes the old run.json before replacing anything.
                    #expect(name == "run.json" && stop != ledger, "\(stop): \(name) is missing")
                    continue
                }
                if name == "run.json" {
                    // Its timings differ from the reference's: whole means it parses and matches otherwise.
                    let whole =
                        data == oldFiles[name]
                        || (try? comparableRunJSON(output)) == (try? comparableRunJSON(URL(fileURLWithPath: ws.path("new"))))
                    #expect(whole, "\(stop): run.json is neither the old nor a new one (half-written?)")
                    #expect(data == oldFiles[name] || stop == ledger, "\(stop): run.json was renamed into place early")
                    continue
                }
                #expect(data == oldFiles[name] || data == newFiles[name], "\(stop): \(name) is neither the old nor the new file")
                if data == newFiles[name] && data != oldFiles[name] { sawNew += 1 }
                if data == oldFiles[name] && data != newFiles[name] { sawOld += 1 }
                // The file being written when the run was killed is still the old one.
                if name == stop { #expect(data == oldFiles[name], "\(stop) was replaced before its rename") }
            }
            if stop == ledger || stop == chart || stop == names.first {
                #expect(sawNew == 0, "\(stop): report files replaced before their turn")
            } else {
                // Killed between two report files: some are new, some old, none half-written.
                #expect(sawNew > 0 && (sawOld > 0 || stop == "run.json"), "\(stop): \(sawNew) new, \(sawOld) old")
            }

            // The next run completes and cleans up what the killed writer left.
            let rerun = try CLI.run(["run", ws.audit.path, "--output", output.path, "--cache", cache, "--threads", "1"])
            #expect(rerun.status == 0, "\(rerun.stderr)")
            try expectSameReport(URL(fileURLWithPath: ws.path("new")), output)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: output.path).filter {
                !names.contains($0) && $0 != ReportCharts.folder && $0 != ledger
            }
            #expect(leftovers.isEmpty, "\(stop): left in the report folder: \(leftovers)")
            let chartLeftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
            #expect(chartLeftovers.isEmpty, "\(stop): temporary files left: \(chartLeftovers)")
            try Self.expectIntact(cache)
        }
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
