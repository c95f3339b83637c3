import AuditEngine
import Foundation
import TestSupport
import Testing

/// `card` on a several-model top folder writes one `model-index` per model, so that each pastes
/// into its own model's card: huggingface_hub reads a `model-index` list as ONE model named
/// after its last entry, so a list of every model would lose all names but the last.
@Suite("model-index per model", .serialized)
struct ModelIndexPasteTests {
    static let openCLIP = FixturePaths.root.appendingPathComponent("formats/openclip-gelu-p32")
    static let script = CLI.packageRoot.appendingPathComponent("scripts/check-model-index.py")

    /// A top folder of two different checkpoints (`a`: the tiny transformers one, `b`: the
    /// OpenCLIP one) on the same images, carded; returns it.
    static func cardedTopFolder(_ ws: Workspace) throws -> URL {
        try ws.writeManifest(Workspace.rows(try ws.makeImages(6)))
        try ws.writeAudit()
        let top = ws.url.appendingPathComponent("out")
        for (label, model) in [("a", CLI.tinyCLIP), ("b", openCLIP)] {
            let result = try CLI.run([
                "run", ws.audit.path, "--output", top.appendingPathComponent(label).path, "--model", model.path, "--no-cache",
                "--threads", "1"
            ])
            #expect(result.status == 0, "\(result.stderr)")
        }
        try MetricsCSV.renderModels([]).write(to: top.appendingPathComponent("models.csv"), atomically: true, encoding: .utf8)
        try #"{"name": "fixture", "models": [{"label": "a", "model": "m"}, {"label": "b", "model": "m"}]}"#
            .write(to: top.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        let card = try CLI.run(["card", top.path])
        #expect(card.status == 0, "\(card.stderr)")
        return top
    }

    /// The `python3` that has huggingface_hub (`$CLIP_AUDIT_PYTHON`, else `python3` on PATH), if any.
    static let hubPython: URL? = {
        let candidate = ProcessInfo.processInfo.environment["CLIP_AUDIT_PYTHON"] ?? "/usr/bin/env"
        let arguments = candidate == "/usr/bin/env" ? ["python3", "-c", "import huggingface_hub"] : ["-c", "import huggingface_hub"]
        guard FileManager.default.isExecutableFile(atPath: candidate),
            let result = try? CLI.run(arguments, tool: URL(fileURLWithPath: candidate)), result.status == 0
        else { return nil }
        return URL(fileURLWithPath: candidate)
    }()

    static func python(_ arguments: [String]) throws -> CLI.Result {
        let tool = try #require(hubPython)
        return try CLI.run(tool.path == "/usr/bin/env" ? ["python3"] + arguments : arguments, tool: tool)
    }

    @Test("each model's model-index is its own file: one entry, its own name, its own card's metrics")
    func onePerModel() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        let top = try Self.cardedTopFolder(ws)
        let card = top.appendingPathComponent("card")
        #expect(!FileManager.default.fileExists(atPath: card.appendingPathComponent("model-index.yaml").path))
        var names: [String] = []
        for label in ["a", "b"] {
            let index = try String(contentsOf: card.appendingPathComponent("model-index-\(label).yaml"), encoding: .utf8)
            let lines = index.split(separator: "\n")
            // One model: one entry of the list, one `model-index:` key.
            let entries = lines.filter { $0.hasPrefix("- name: ") }
            #expect(entries.count == 1 && lines.filter { $0 == "model-index:" }.count == 1, "\(label): \(index)")
            names += entries.map { String($0.dropFirst("- name: ".count)) }
            #expect(lines.filter { $0.hasPrefix("    - type: ") }.count > 0, "\(label)")
            // Exactly what `card` writes for that model's own folder: every metric, nothing merged.
            let own = try CLI.run(["card", top.appendingPathComponent(label).path])
            #expect(own.status == 0, "\(own.stderr)")
            let alone = try String(contentsOf: top.appendingPathComponent("\(label)/card/model-index.yaml"), encoding: .utf8)
            #expect(index == alone, "\(label)")
        }
        #expect(names == ["\"tiny-clip\"", "\"openclip-gelu-p32\""], "\(names)")
    }

    @Test(
        "huggingface_hub reads each file as its model with all its metrics; check-model-index refuses every model in one list",
        .enabled(if: hubPython != nil, "needs python3 with huggingface_hub (pip install huggingface_hub), or $CLIP_AUDIT_PYTHON"))
    func readByHuggingFaceHub() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        let top = try Self.cardedTopFolder(ws)
        let files = ["a", "b"].map { top.appendingPathComponent("card/model-index-\($0).yaml") }
        let good = try Self.python([Self.script.path] + files.map(\.path))
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        let okLines = good.stdout.split(separator: "\n")
        #expect(okLines.count == 2, "\(good.stdout)")
        // Each file's name and every one of its metrics, as huggingface_hub reads them (the
        // workspace audit has two designs).
        let texts = try files.map { try String(contentsOf: $0, encoding: .utf8) }
        let counts = texts.map { $0.split(separator: "\n").filter { $0.hasPrefix("    - type: ") }.count }
        #expect(okLines.first?.contains(": tiny-clip, 2 designs, \(counts[0]) metrics") == true, "\(good.stdout)")
        #expect(okLines.last?.contains(": openclip-gelu-p32, 2 designs, \(counts[1]) metrics") == true, "\(good.stdout)")

        // The earlier form, both entries under one `model-index:`: read as one model, so refused.
        let merged = ws.url.appendingPathComponent("model-index.yaml")
        try (texts[0] + texts[1].dropFirst("model-index:\n".count)).write(to: merged, atomically: true, encoding: .utf8)
        let bad = try Self.python([Self.script.path, merged.path])
        #expect(bad.status == 1)
        #expect(
            bad.stderr.contains("2 models in one model-index") && bad.stderr.contains("reads this as one model named 'openclip-gelu-p32'"),
            "\(bad.stderr)")
    }
}
