import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The report folder is shared with the user: a run replaces or removes only files clip-audit
/// wrote there, refuses a folder that holds its own inputs or is the filesystem root, and cleans
/// up after a writer that was killed.
@Suite("output folders: only clip-audit's own files are replaced or removed", .serialized)
struct OutputFolderTests {
    /// A workspace with six images and the standard two-design audit.
    static func workspace() throws -> Workspace {
        let workspace = try Workspace()
        try workspace.writeManifest(Workspace.rows(try workspace.makeImages(6)))
        try workspace.writeAudit()
        return workspace
    }

    static func run(_ workspace: Workspace, output: String, audit: URL? = nil) throws -> CLI.Result {
        try CLI.run(["run", (audit ?? workspace.audit).path, "--output", output, "--no-cache", "--threads", "1"])
    }

    static func charts(_ folder: URL) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("charts").path)) ?? [])
    }

    @Test("a user's own SVGs in charts/ survive a run and a rerun with fewer charts; the stale charts go")
    func userChartsSurvive() throws {
        let workspace = try Self.workspace()
        defer { workspace.cleanUp() }
        let site = workspace.url.appendingPathComponent("site")
        let charts = site.appendingPathComponent("charts")
        try FileManager.default.createDirectory(at: charts, withIntermediateDirectories: true)
        try "<svg>logo</svg>".write(to: charts.appendingPathComponent("logo.svg"), atomically: true, encoding: .utf8)
        try "<svg>diagram</svg>".write(to: charts.appendingPathComponent("diagram.svg"), atomically: true, encoding: .utf8)

        let first = try Self.run(workspace, output: site.path)
        #expect(first.status == 0, "\(first.stderr)")
        let afterFirst = Self.charts(site)
        #expect(afterFirst.contains("logo.svg") && afterFirst.contains("diagram.svg"))
        #expect(afterFirst.contains { $0.hasPrefix("harm-") }, "the harm design's charts were drawn")

        // Drop the harm design: its charts are stale and must go; the user's stay.
        var text = try String(contentsOf: workspace.audit, encoding: .utf8)
        text = String(text[..<text.range(of: "  - name: harm")!.lowerBound])
        try text.write(to: workspace.audit, atomically: true, encoding: .utf8)
        let second = try Self.run(workspace, output: site.path)
        #expect(second.status == 0, "\(second.stderr)")
        let afterSecond = Self.charts(site)
        #expect(afterSecond.contains("logo.svg") && afterSecond.contains("diagram.svg"))
        #expect(!afterSecond.contains { $0.hasPrefix("harm-") }, "stale charts left: \(afterSecond.sorted())")
        #expect(try String(contentsOf: charts.appendingPathComponent("logo.svg"), encoding: .utf8) == "<svg>logo</svg>")

        // run.json lists what the run wrote, and nothing of the user's.
        let runJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: site.appendingPathComponent("run.json"))) as? [String: Any]
        let files = try #require(runJSON?["files"] as? [String])
        #expect(files.contains("report.md") && files.contains("run.json"))
        #expect(!files.contains("charts/logo.svg"))
    }

    @Test("a manifest inside the output folder (D/predictions.csv, --output D) is refused and kept")
    func manifestInOutputFolder() throws {
        let workspace = try Self.workspace()
        defer { workspace.cleanUp() }
        let manifest = try String(contentsOf: workspace.url.appendingPathComponent("manifest.csv"), encoding: .utf8)
        let folder = workspace.url.appendingPathComponent("D")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try manifest.write(to: folder.appendingPathComponent("predictions.csv"), atomically: true, encoding: .utf8)
        let text = try String(contentsOf: workspace.audit, encoding: .utf8)
            .replacingOccurrences(
                of: "manifest: {path: manifest.csv, image_root: .}", with: "manifest: {path: D/predictions.csv, image_root: .}")
        try text.write(to: workspace.audit, atomically: true, encoding: .utf8)

        let result = try Self.run(workspace, output: folder.path)
        DamagedInputTests.expectOneLineFailure(result, containing: [folder.path, "holds the manifest"])
        #expect(try String(contentsOf: folder.appendingPathComponent("predictions.csv"), encoding: .utf8) == manifest)
    }

    @Test("an output folder holding the audit file or the images is refused before any encoding")
    func inputsInOutputFolder() throws {
        let workspace = try Self.workspace()
        defer { workspace.cleanUp() }
        // The workspace itself holds audit.yaml, manifest.csv and images/.
        let result = try Self.run(workspace, output: workspace.url.path)
        DamagedInputTests.expectOneLineFailure(result, containing: ["holds the"])
        #expect(!FileManager.default.fileExists(atPath: workspace.path("report.md")))
    }

    @Test("--output / is refused and writes nothing there")
    func rootRefused() throws {
        let workspace = try Self.workspace()
        defer { workspace.cleanUp() }
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: "/"))
        let result = try Self.run(workspace, output: "/")
        DamagedInputTests.expectOneLineFailure(result, containing: ["/", "filesystem root"])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: "/")) == before)
    }

    @Test("a report.md that clip-audit did not write stops the run and is kept")
    func foreignReportFileRefused() throws {
        let workspace = try Self.workspace()
        defer { workspace.cleanUp() }
        let folder = workspace.url.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "# my notes\n".write(to: folder.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
        let result = try Self.run(workspace, output: folder.path)
        DamagedInputTests.expectOneLineFailure(result, containing: ["report.md", "not written by clip-audit"])
        #expect(try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8) == "# my notes\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("metrics.csv").path))
    }

    /// The pid of a process that has exited.
    static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test("a chart's temporary file left by a killed writer is gone after the next complete run")
    func abandonedChartTemporaryRemoved() throws {
        let workspace = try Self.workspace()
        defer { workspace.cleanUp() }
        let out = workspace.url.appendingPathComponent("out")
        #expect(try Self.run(workspace, output: out.path).status == 0)
        let chart = try #require(Self.charts(out).sorted().first)
        // What AtomicFile leaves when its process dies between creating and renaming.
        let leftover = ".\(chart).\(try Self.deadPID()).123456.tmp"
        try "<svg".write(to: out.appendingPathComponent("charts/\(leftover)"), atomically: false, encoding: .utf8)
        let topLeftover = ".report.md.\(try Self.deadPID()).42.tmp"
        try "# half".write(to: out.appendingPathComponent(topLeftover), atomically: false, encoding: .utf8)
        #expect(try Self.run(workspace, output: out.path).status == 0)
        #expect(!Self.charts(out).contains(leftover))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(topLeftover).path))
    }

    @Test("a report folder from before the ledger: its charts are replaced, a user's SVG is kept")
    func legacyFolder() throws {
        let workspace = try Self.workspace()
        defer { workspace.cleanUp() }
        let out = workspace.url.appendingPathComponent("out")
        #expect(try Self.run(workspace, output: out.path).status == 0)
        // As an older clip-audit left it: no ledger, the user's file beside the charts.
        try FileManager.default.removeItem(at: out.appendingPathComponent(".clip-audit-report.files"))
        try "<svg/>".write(to: out.appendingPathComponent("charts/mine.svg"), atomically: true, encoding: .utf8)
        let result = try Self.run(workspace, output: out.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.charts(out).contains("mine.svg"))
    }

    @Test("diff and card leave a user's files in their output folders alone")
    func diffAndCardKeepUserFiles() throws {
        let workspace = try Self.workspace()
        defer { workspace.cleanUp() }
        let a = workspace.url.appendingPathComponent("a"), b = workspace.url.appendingPathComponent("b")
        #expect(try Self.run(workspace, output: a.path).status == 0)
        #expect(try Self.run(workspace, output: b.path).status == 0)
        let diff = workspace.url.appendingPathComponent("diff")
        try FileManager.default.createDirectory(at: diff.appendingPathComponent("charts"), withIntermediateDirectories: true)
        try "<svg/>".write(to: diff.appendingPathComponent("charts/logo.svg"), atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            let result = try CLI.run(["diff", a.path, b.path, "--output", diff.path])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(Self.charts(diff).contains("logo.svg"))

        let card = workspace.url.appendingPathComponent("card")
        try FileManager.default.createDirectory(at: card, withIntermediateDirectories: true)
        try "mine".write(to: card.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            let result = try CLI.run(["card", a.path, "--output", card.path])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try String(contentsOf: card.appendingPathComponent("README.md"), encoding: .utf8) == "mine")
        // A file of card's names that card did not write is refused, not overwritten.
        let other = workspace.url.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try "mine".write(to: other.appendingPathComponent("fairness.md"), atomically: true, encoding: .utf8)
        let refused = try CLI.run(["card", a.path, "--output", other.path])
        DamagedInputTests.expectOneLineFailure(refused, containing: ["fairness.md", "not written by clip-audit"])
        #expect(try String(contentsOf: other.appendingPathComponent("fairness.md"), encoding: .utf8) == "mine")
    }
}

/// A manifest must be a regular file of CSV records: a FIFO, a device or a file with no line
/// ends fails at once with one line instead of waiting or filling memory.
@Suite("manifests that are not regular CSV files", .serialized)
struct ManifestInputTests {
    static func workspace(manifest: String) throws -> Workspace {
        let workspace = try Workspace()
        _ = try workspace.makeImages(2)
        try workspace.writeAudit()
        let text = try String(contentsOf: workspace.audit, encoding: .utf8)
            .replacingOccurrences(of: "path: manifest.csv", with: "path: \(manifest)")
        try text.write(to: workspace.audit, atomically: true, encoding: .utf8)
        return workspace
    }

    /// A failing status and one line on stderr; `validate` may already have printed what it
    /// checked (the model) on stdout.
    static func expectOneLineError(
        _ result: CLI.Result, containing parts: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status != 0, "status 0; stdout: \(result.stdout)", sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(result.stderr.contains(part), "\"\(part)\" not in: \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// Runs with a deadline: a hang is a failure, not a stuck suite.
    static func runWithDeadline(_ arguments: [String], seconds: Double = 60) throws -> CLI.Result {
        let started = try CLI.start(arguments)
        let deadline = Date().addingTimeInterval(seconds)
        while started.0.isRunning && Date() < deadline { usleep(50_000) }
        if started.0.isRunning { kill(started.0.processIdentifier, SIGKILL) }
        return CLI.collect(started)
    }

    @Test("a manifest that is a FIFO is refused at once by run and validate", arguments: ["run", "validate"])
    func fifo(command: String) throws {
        let workspace = try Self.workspace(manifest: "manifest.csv")
        defer { workspace.cleanUp() }
        #expect(mkfifo(workspace.path("manifest.csv"), 0o644) == 0)
        let arguments =
            command == "run"
            ? ["run", workspace.audit.path, "--no-cache", "--output", workspace.path("out")]
            : ["validate", workspace.audit.path]
        let result = try Self.runWithDeadline(arguments)
        Self.expectOneLineError(result, containing: ["manifest.csv", "FIFO"])
    }

    @Test("/dev/zero as the manifest is refused at once")
    func devZero() throws {
        let workspace = try Self.workspace(manifest: "/dev/zero")
        defer { workspace.cleanUp() }
        let result = try Self.runWithDeadline(["run", workspace.audit.path, "--no-cache", "--output", workspace.path("out")])
        DamagedInputTests.expectOneLineFailure(result, containing: ["zero", "character device"])
    }

    @Test("a regular file with no line end in its first MiB fails on its first line")
    func endlessRecord() throws {
        let workspace = try Self.workspace(manifest: "manifest.csv")
        defer { workspace.cleanUp() }
        try Data(repeating: 0x61, count: 3 << 20).write(to: URL(fileURLWithPath: workspace.path("manifest.csv")))
        let result = try Self.runWithDeadline(["validate", workspace.audit.path])
        Self.expectOneLineError(result, containing: ["manifest.csv:1", "longer than 1024 KiB"])
    }
}
