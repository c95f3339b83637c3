import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the real `clip-audit` binary as a user does — arguments, exit status, stdout and stderr —
/// for the tests of the command line: the one built beside the tests (`swift build --build-tests`),
/// or `$CLIP_AUDIT_BINARY`.
enum CLI {
    static var packageRoot: URL { FixturePaths.packageRoot }
    static var fixtures: URL { FixturePaths.clipReference }
    static var tinyCLIP: URL { FixturePaths.tinyCLIP }

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["CLIP_AUDIT_BINARY"] { return URL(fileURLWithPath: path) }
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("clip-audit")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return packageRoot.appendingPathComponent(".build/debug/clip-audit")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Starts the binary (or another `tool`); the caller waits or kills. Output goes to files, so
    /// a full pipe can never block the child.
    static func start(
        _ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil,
        tool: URL? = nil
    ) throws -> (Process, URL, URL) {
        let process = Process()
        process.executableURL = tool ?? binary
        process.standardInput = FileHandle.nullDevice
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in [
            "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "JOB_COMPLETION_INDEX", "CLIP_AUDIT_SHARD_COUNT"
        ] {
            env[key] = nil
        }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.currentDirectoryURL = directory ?? packageRoot
        let id = UUID().uuidString
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-out-\(id)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-err-\(id)")
        try Data().write(to: out)
        try Data().write(to: err)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    static func collect(_ started: (Process, URL, URL)) -> Result {
        let (process, out, err) = started
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs the binary (or another `tool`) to completion, in `directory` (default: the package root).
    static func run(
        _ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil,
        tool: URL? = nil
    ) throws -> Result {
        collect(try start(arguments, environment: environment, in: directory, tool: tool))
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A temporary audit workspace: images (copies of the fixture images made distinct by a few
/// trailing bytes, which the decoders ignore), a manifest and an audit file using the tiny model.
struct Workspace {
    let url: URL
    var audit: URL { url.appendingPathComponent("audit.yaml") }
    var images: URL { url.appendingPathComponent("images") }

    /// The small fixture images (fast to decode in a debug build).
    static let smallImages = [
        "tiny_upscale.png", "gradient_gray16.png", "gradient_gray.jpg", "gradient_rgb.jpg",
        "gradient_progressive.jpg", "gradient_palette.png"
    ]

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("clip-audit-cli-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url.appendingPathComponent("images"), withIntermediateDirectories: true)
    }

    /// `count` distinct images named `img0000.png` …; returns their manifest paths.
    func makeImages(_ count: Int) throws -> [String] {
        var names: [String] = []
        for i in 0..<count {
            let source = Self.smallImages[i % Self.smallImages.count]
            var data = try Data(contentsOf: CLI.fixtures.appendingPathComponent("images/\(source)"))
            data.append(contentsOf: Array("distinct\(i)".utf8))
            let name = String(format: "img%04d.", i) + (source as NSString).pathExtension
            try data.write(to: images.appendingPathComponent(name))
            names.append("images/\(name)")
        }
        return names
    }

    /// Rows `file,gender,race` with labels that cycle, so every group has members.
    static func rows(_ files: [String]) -> [String] {
        files.enumerated().map { i, file in
            "\(file),\(i % 2 == 0 ? "Male" : "Female"),\(["White", "Black", "Asian"][i % 3])"
        }
    }

    func writeManifest(_ rows: [String], header: String = "file,gender,race") throws {
        try ([header] + rows).joined(separator: "\n").appending("\n")
            .write(to: url.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
    }

    func writeAudit(extra: String = "") throws {
        let text = """
            name: cli-test
            model: \(CLI.tinyCLIP.path)
            manifest: {path: manifest.csv, image_root: .}
            attributes: [race, gender]
            intersections: [[race, gender]]
            reference_groups: {race: White}
            designs:
              - name: gender
                target: gender
                classes: {Male: [man, male], Female: [woman, female]}
              - name: harm
                classes: {person: [person], animal: [gorilla], thief: [thief]}
                harm_categories: {non-human: [animal], crime-related: [thief]}
            \(extra)
            """
        try text.write(to: audit, atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// The report files whose bytes must not depend on how the run was carried out.
let deterministicReportFiles = [
    "predictions.csv", "metrics.csv", "disparities.csv", "summary.csv", "comparison.csv", "report.md", "report.html"
]

/// `run.json` without what legitimately differs between two runs of one audit: timings, the cache
/// path, and how many embeddings came from the cache rather than the encoder.
func comparableRunJSON(_ folder: URL) throws -> NSDictionary {
    let data = try Data(contentsOf: folder.appendingPathComponent("run.json"))
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    var copy = object
    copy["timings_s"] = nil
    copy["cache"] = nil
    if var counts = copy["counts"] as? [String: Any] {
        for key in ["images_encoded", "images_from_cache", "prompts_encoded"] { counts[key] = nil }
        copy["counts"] = counts
    }
    return copy as NSDictionary
}

/// Expects two report folders to hold the same report (byte for byte, run.json as above).
func expectSameReport(_ a: URL, _ b: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
    for name in deterministicReportFiles {
        let left = try Data(contentsOf: a.appendingPathComponent(name))
        let right = try Data(contentsOf: b.appendingPathComponent(name))
        #expect(left == right, "\(name) differs between \(a.path) and \(b.path)", sourceLocation: sourceLocation)
    }
    #expect(
        try comparableRunJSON(a) == comparableRunJSON(b), "run.json differs beyond timings and cache counts",
        sourceLocation: sourceLocation)
    // Every report has charts: a missing or empty folder on both sides must not compare equal.
    let charts = { (folder: URL) throws -> [String: Data] in
        let dir = folder.appendingPathComponent("charts")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        return Dictionary(uniqueKeysWithValues: try names.map { ($0, try Data(contentsOf: dir.appendingPathComponent($0))) })
    }
    let left = try charts(a), right = try charts(b)
    #expect(
        !left.isEmpty && left.keys.sorted() == right.keys.sorted(), "chart names: \(left.keys.sorted()) vs \(right.keys.sorted())",
        sourceLocation: sourceLocation)
    #expect(left == right, "the charts differ between \(a.path) and \(b.path)", sourceLocation: sourceLocation)
}
