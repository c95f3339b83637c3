import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A report folder handed over by someone else may hold symbolic links, and two processes may
/// write into one folder at once (docs/robustness.md, threat model): clip-audit never writes or
/// removes anything through a link inside its output folder, and a second writer stops with one
/// line instead of mixing its report with the first one's.
@Suite("output folders: links inside them and concurrent writers", .serialized)
struct OutputFolderSafetyTests {
    static let fm = FileManager.default
    var fm: FileManager { FileManager.default }

    /// `outside/victim.txt` beside the workspace's folders: what a link must never reach.
    static func victim(_ ws: Workspace) throws -> URL {
        let outside = ws.url.appendingPathComponent("outside")
        try fm.createDirectory(at: outside, withIntermediateDirectories: true)
        let victim = outside.appendingPathComponent("victim.txt")
        try "precious\n".write(to: victim, atomically: true, encoding: .utf8)
        return victim
    }

    /// Adds `lnk/victim.txt` to the ledger `ledger` of `folder`, with `folder/lnk` a link to the
    /// victim's folder: what a tampered report folder looks like.
    static func plantLedgerLink(in folder: URL, ledger: String, victim: URL) throws {
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(ledger)
        let old = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        try (old + "lnk/victim.txt\n").write(to: url, atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(at: folder.appendingPathComponent("lnk"), withDestinationURL: victim.deletingLastPathComponent())
    }

    @Test(
        "a ledger line through a linked folder (lnk/victim.txt) is refused by card, card --output, diff --output and a re-run; the file outside stays",
        arguments: ["rerun", "card", "card --output", "diff --output"])
    func ledgerLineThroughLink(command: String) throws {
        let ws = try OutputFolderTests.workspace()
        defer { ws.cleanUp() }
        let victim = try Self.victim(ws)
        let report = ws.url.appendingPathComponent("report")
        let first = try OutputFolderTests.run(ws, output: report.path)
        #expect(first.status == 0, "\(first.stderr)")
        let dest = ws.url.appendingPathComponent("dest")
        let arguments: [String]
        switch command {
        case "rerun":
            try Self.plantLedgerLink(in: report, ledger: ".clip-audit-report.files", victim: victim)
            arguments = ["run", ws.audit.path, "--output", report.path, "--no-cache", "--threads", "1"]
        case "card":
            #expect(try CLI.run(["card", report.path]).status == 0)
            try Self.plantLedgerLink(in: report.appendingPathComponent("card"), ledger: ".clip-audit-card.files", victim: victim)
            arguments = ["card", report.path]
        case "card --output":
            try Self.plantLedgerLink(in: dest, ledger: ".clip-audit-card.files", victim: victim)
            arguments = ["card", report.path, "--output", dest.path]
        default:
            try Self.plantLedgerLink(in: dest, ledger: ".clip-audit-diff.files", victim: victim)
            arguments = ["diff", report.path, report.path, "--output", dest.path]
        }
        let result = try CLI.run(arguments)
        #expect(result.status != 0, "\(command): status 0")
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") && !$0.hasPrefix("note:") }
        #expect(lines.count == 1 && lines[0].contains("/lnk") && lines[0].contains("symbolic link"), "\(command): \(result.stderr)")
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious\n", "\(command) removed or changed outside/victim.txt")
    }

    @Test("a folder without a ledger whose charts/ is a link: the run is refused, the charts it leads to stay, none is written there")
    func legacyChartsLink() throws {
        let ws = try OutputFolderTests.workspace()
        defer { ws.cleanUp() }
        let out = ws.url.appendingPathComponent("out")
        #expect(try OutputFolderTests.run(ws, output: out.path).status == 0)
        // As an older clip-audit left it (no ledger), with charts/ moved away and linked.
        try fm.removeItem(at: out.appendingPathComponent(".clip-audit-report.files"))
        let elsewhere = ws.url.appendingPathComponent("elsewhere")
        try fm.moveItem(at: out.appendingPathComponent("charts"), to: elsewhere)
        try fm.createSymbolicLink(at: out.appendingPathComponent("charts"), withDestinationURL: elsewhere)
        let before = try Self.snapshot(elsewhere)
        #expect(!before.isEmpty)

        let result = try OutputFolderTests.run(ws, output: out.path)
        DamagedInputTests.expectOneLineFailure(result, containing: [out.appendingPathComponent("charts").path, "symbolic link"])
        #expect(try Self.snapshot(elsewhere) == before, "the charts behind the link changed")
    }

    /// Every file below `folder` and its bytes.
    static func snapshot(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try fm.subpathsOfDirectory(atPath: folder.path) {
            let url = folder.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[name] = try Data(contentsOf: url)
            }
        }
        return files
    }

    @Test(
        "a linked charts/ (with a ledger) or card/ is refused by run and card; nothing is written through it", arguments: ["charts", "card"]
    )
    func linkedSubfolder(name: String) throws {
        let ws = try OutputFolderTests.workspace()
        defer { ws.cleanUp() }
        let out = ws.url.appendingPathComponent("out")
        #expect(try OutputFolderTests.run(ws, output: out.path).status == 0)
        let elsewhere = ws.url.appendingPathComponent("elsewhere")
        try fm.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        if name == "charts" { try fm.removeItem(at: out.appendingPathComponent("charts")) }
        try fm.createSymbolicLink(at: out.appendingPathComponent(name), withDestinationURL: elsewhere)

        let rerun = try OutputFolderTests.run(ws, output: out.path)
        DamagedInputTests.expectOneLineFailure(rerun, containing: [out.appendingPathComponent(name).path, "symbolic link"])
        if name == "card" {
            let card = try CLI.run(["card", out.path])
            DamagedInputTests.expectOneLineFailure(card, containing: [out.appendingPathComponent(name).path, "symbolic link"])
        }
        #expect(try fm.contentsOfDirectory(atPath: elsewhere.path).isEmpty, "written through the link")
    }

    @Test("a model's folder of a several-model report that is a link: the re-run is refused and the folder it leads to stays")
    func linkedLabelFolder() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(4)))
        try ModelsCommandTests.writeTwoModelAudit(ws)
        let top = ws.url.appendingPathComponent("top")
        let first = try CLI.run(["run", ws.audit.path, "--output", top.path, "--no-cache", "--threads", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        let elsewhere = ws.url.appendingPathComponent("elsewhere")
        try fm.moveItem(at: top.appendingPathComponent("tiny"), to: elsewhere)
        try fm.createSymbolicLink(at: top.appendingPathComponent("tiny"), withDestinationURL: elsewhere)
        let before = try Self.snapshot(elsewhere)

        let rerun = try CLI.run(["run", ws.audit.path, "--output", top.path, "--no-cache", "--threads", "1"])
        DamagedInputTests.expectOneLineFailure(rerun, containing: [top.appendingPathComponent("tiny").path, "symbolic link"])
        #expect(try Self.snapshot(elsewhere) == before)
    }

    /// Starts a Python process that holds `flock` on `folder/.clip-audit.lock` and returns once it
    /// holds it: another clip-audit writer, as far as the lock can tell.
    static func holdFolderLock(_ folder: URL) throws -> (Process, URL, URL) {
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        let script =
            "import fcntl,sys,time\nf=open(sys.argv[1],'a')\nfcntl.flock(f,fcntl.LOCK_EX)\nprint('locked',flush=True)\ntime.sleep(60)\n"
        let holder = try CLI.start(
            ["python3", "-c", script, folder.appendingPathComponent(".clip-audit.lock").path], tool: CacheInputTests.python)
        let deadline = Date().addingTimeInterval(10)
        while holder.0.isRunning && Date() < deadline && !((try? String(contentsOf: holder.1, encoding: .utf8)) ?? "").contains("locked") {
            usleep(20_000)
        }
        return holder
    }

    @Test("a folder another process holds locked: run, card --output and diff --output stop with one line and write nothing")
    func lockedFolder() throws {
        let ws = try OutputFolderTests.workspace()
        defer { ws.cleanUp() }
        let report = ws.url.appendingPathComponent("report")
        #expect(try OutputFolderTests.run(ws, output: report.path).status == 0)
        let busy = ws.url.appendingPathComponent("busy")
        let holder = try Self.holdFolderLock(busy)
        defer {
            kill(holder.0.processIdentifier, SIGKILL)
            _ = CLI.collect(holder)
        }
        #expect(holder.0.isRunning, "the lock holder did not start")
        for arguments in [
            ["run", ws.audit.path, "--output", busy.path, "--no-cache", "--threads", "1"],
            ["card", report.path, "--output", busy.path],
            ["diff", report.path, report.path, "--output", busy.path]
        ] {
            let result = try CLI.run(arguments)
            DamagedInputTests.expectOneLineFailure(result, containing: [busy.path, "another clip-audit process"])
        }
        #expect(try fm.contentsOfDirectory(atPath: busy.path) == [".clip-audit.lock"])
    }

    @Test("two real runs into one folder at once: one writes a complete report, the other stops with one line")
    func twoRunsAtOnce() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(24)))
        try ws.writeAudit()
        let out = ws.url.appendingPathComponent("out")
        let arguments = ["run", ws.audit.path, "--output", out.path, "--no-cache", "--threads", "1"]
        let a = try CLI.start(arguments), b = try CLI.start(arguments)
        let results = [CLI.collect(a), CLI.collect(b)]
        let failed = results.filter { $0.status != 0 }
        #expect(failed.count == 1, "statuses \(results.map(\.status)): both ran into the folder at once")
        for result in failed {
            DamagedInputTests.expectOneLineFailure(result, containing: [out.path, "another clip-audit process"])
        }
        // What is left is one complete report: its run.json lists exactly the files there.
        let runJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any]
        let listed = Set(try #require(runJSON?["files"] as? [String]))
        let present = Set(try fm.subpathsOfDirectory(atPath: out.path).filter { !$0.hasPrefix(".") && $0 != "charts" })
        #expect(listed == present)
        #expect(!fm.fileExists(atPath: out.appendingPathComponent(".clip-audit.lock").path), "the lock file stays after the run")
    }

    @Test("a run that fails after taking the folder's lock (a model that cannot be found) leaves no folder of its making")
    func failedRunLeavesNoFolder() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(2)))
        try ModelsCommandTests.writeTwoModelAudit(ws)
        let text = try String(contentsOf: ws.audit, encoding: .utf8)
            .replacingOccurrences(of: ModelsCommandTests.openCLIP.path, with: ws.path("no-such-model"))
        try text.write(to: ws.audit, atomically: true, encoding: .utf8)
        let result = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--no-cache", "--threads", "1"])
        #expect(result.status != 0)
        #expect(!fm.fileExists(atPath: ws.path("out")), "\(result.stderr)")
    }

    @Test("a models: label longer than 64 characters is refused at its line by validate and run, before any encoding", arguments: [65, 300])
    func longLabel(length: Int) throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(2)))
        try ModelsCommandTests.writeTwoModelAudit(ws)
        let label = String(repeating: "a", count: length)
        let text = try String(contentsOf: ws.audit, encoding: .utf8).replacingOccurrences(of: "{label: tiny,", with: "{label: \(label),")
        try text.write(to: ws.audit, atomically: true, encoding: .utf8)
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains(label) }! + 1
        for arguments in [["validate", ws.audit.path], ["run", ws.audit.path, "--output", ws.path("out"), "--no-cache"]] {
            let result = try CLI.run(arguments)
            ManifestInputTests.expectOneLineError(result, containing: ["audit.yaml:\(line)", "at most 64"])
        }
        #expect(!fm.fileExists(atPath: ws.path("out")))
    }

    @Test("a one-model run into a several-model folder, and the reverse, stop with one line naming what the folder holds")
    func switchingBetweenOneAndSeveralModels() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(4)))
        try ModelsCommandTests.writeTwoModelAudit(ws)
        let top = ws.url.appendingPathComponent("top")
        #expect(try CLI.run(["run", ws.audit.path, "--output", top.path, "--no-cache", "--threads", "1"]).status == 0)
        let before = try Self.snapshot(top)
        // --model makes it a one-model run of the same audit.
        let one = try CLI.run(["run", ws.audit.path, "--model", CLI.tinyCLIP.path, "--output", top.path, "--no-cache", "--threads", "1"])
        DamagedInputTests.expectOneLineFailure(one, containing: [top.path, "several-model report"])
        #expect(try Self.snapshot(top) == before)
        #expect(try CLI.run(["card", top.path]).status == 0, "the several-model folder still reads back")

        let single = ws.url.appendingPathComponent("single")
        #expect(
            try CLI.run(["run", ws.audit.path, "--model", CLI.tinyCLIP.path, "--output", single.path, "--no-cache", "--threads", "1"])
                .status == 0)
        let several = try CLI.run(["run", ws.audit.path, "--output", single.path, "--no-cache", "--threads", "1"])
        DamagedInputTests.expectOneLineFailure(several, containing: [single.path, "one-model report"])
        #expect(!fm.fileExists(atPath: single.appendingPathComponent("models.csv").path))
    }
}
