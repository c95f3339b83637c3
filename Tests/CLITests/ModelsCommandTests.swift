import AuditEngine
import Foundation
import TestSupport
import Testing

/// `clip-audit run` on an audit file with `models:`: the folders it writes, sharded runs, and
/// `--model` replacing the list.
@Suite("several models", .serialized)
struct ModelsCommandTests {
    static let openCLIP = FixturePaths.root.appendingPathComponent("formats/openclip-gelu-p32")

    /// The workspace's audit with two models in place of `model:`.
    static func writeTwoModelAudit(_ ws: Workspace) throws {
        try ws.writeAudit()
        var text = try String(contentsOf: ws.audit, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "model: \(CLI.tinyCLIP.path)",
            with: """
                models:
                  - {label: tiny, model: \(CLI.tinyCLIP.path)}
                  - {label: openclip, model: \(openCLIP.path)}
                """)
        try text.write(to: ws.audit, atomically: true, encoding: .utf8)
    }

    /// The top run.json without what differs between runs: timings, the cache, encode times.
    static func comparableTopRunJSON(_ folder: URL) throws -> NSDictionary {
        let data = try Data(contentsOf: folder.appendingPathComponent("run.json"))
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["timings_s"] = nil
        object["cache"] = nil
        object["models"] = (object["models"] as? [[String: Any]])?.map { model -> [String: Any] in
            var model = model
            model["encode_seconds"] = nil
            return model
        }
        return object as NSDictionary
    }

    @Test("three shards of a two-model audit, then a --cached-only run: the same folders as one process, byte for byte")
    func threeShardsEqualOneProcess() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(12)))
        try Self.writeTwoModelAudit(ws)

        let single = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("single"), "--cache", ws.path("single.sqlite"), "--threads", "1"
        ])
        #expect(single.status == 0, "\(single.stderr)")
        #expect(single.stderr.contains("tiny: 12 encoded, 0 from the cache; openclip: 12 encoded, 0 from the cache"), "\(single.stderr)")
        #expect(single.stderr.contains("\(ws.path("single/tiny"))/"), "\(single.stderr)")

        // Every file of the top folder is named by run --help (the models' folders by <label>/).
        let help = try CLI.run(["run", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ").filter { !$0.isEmpty }.joined(separator: " ")
        #expect(help.contains("<output>/<label>/"), "\(help)")
        for name in try FileManager.default.contentsOfDirectory(atPath: ws.path("single")) where !["tiny", "openclip"].contains(name) {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: ws.path("single/\(name)"), isDirectory: &isDirectory)
            #expect(exists, "\(name) is listed but cannot be seen")
            #expect(help.contains(isDirectory.boolValue ? "\(name)/" : name), "run --help does not name \(name)")
        }

        let shards = try (1...3).map { k in
            try CLI.start(["run", ws.audit.path, "--shard", "\(k)/3", "--cache", ws.path("shard-\(k).sqlite"), "--threads", "1"])
        }
        for (k, started) in shards.enumerated() {
            let result = CLI.collect(started)
            #expect(result.status == 0, "shard \(k + 1): \(result.stderr)")
            #expect(
                result.stderr.contains("shard \(k + 1)/3: image(s) per model: tiny: 4 encoded, 0 from the cache; openclip: 4 encoded"),
                "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: ws.path("Reports")), "a shard writes no report")

        let merged = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("merged"), "--cached-only", "--cache", ws.path("merged.sqlite"),
            "--cache", ws.path("shard-1.sqlite"), "--cache", ws.path("shard-2.sqlite"), "--cache", ws.path("shard-3.sqlite"),
            "--threads", "1"
        ])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stderr.contains("tiny: 0 encoded, 12 from the cache; openclip: 0 encoded, 12 from the cache"), "\(merged.stderr)")
        let a = URL(fileURLWithPath: ws.path("single")), b = URL(fileURLWithPath: ws.path("merged"))
        for label in ["tiny", "openclip"] {
            try expectSameReport(a.appendingPathComponent(label), b.appendingPathComponent(label))
        }
        let top = { (folder: URL) throws -> [String] in
            try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
                !["tiny", "openclip", "run.json", "charts"].contains($0)
            }.sorted()
        }
        let names = try top(a)
        let mergedNames = try top(b)
        #expect(names.contains("models.csv") && names == mergedNames)
        for name in names {
            #expect(
                try Data(contentsOf: a.appendingPathComponent(name)) == Data(contentsOf: b.appendingPathComponent(name)), "\(name) differs")
        }
        #expect(try Self.comparableTopRunJSON(a) == Self.comparableTopRunJSON(b))

        // With one shard's cache missing, --cached-only names the image and the model.
        let partial = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("partial"), "--cached-only", "--cache", ws.path("p.sqlite"),
            "--cache", ws.path("shard-1.sqlite"), "--cache", ws.path("shard-3.sqlite")
        ])
        #expect(partial.status != 0)
        #expect(partial.stderr.contains("is not in the cache(s) for model tiny"), "\(partial.stderr)")
    }

    @Test("--model replaces the models: list with one model and the one-model folder layout")
    func modelOptionReplacesTheList() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(3)))
        try Self.writeTwoModelAudit(ws)
        let run = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("out"), "--model", Self.openCLIP.path, "--no-cache", "--threads", "1"
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let written = Set(try FileManager.default.contentsOfDirectory(atPath: ws.path("out")))
        #expect(
            written.isSuperset(of: ["predictions.csv", "report.md", "run.json"]) && !written.contains("models.csv")
                && !written.contains("tiny"), "\(written)")

        let validate = try CLI.run(["validate", ws.audit.path, "--headers-only"])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("model tiny: ") && validate.stdout.contains("model openclip: "), "\(validate.stdout)")
    }
}
