import CLIPEngine
import Foundation
import TestSupport
import Testing

@testable import AuditEngine

/// Audits of several models (`models:`) on the fixture checkpoints: the loader's checks, one
/// pass over the images, each model's folder, and models.csv against an independent computation.
@Suite(.serialized) struct ModelsRunTests {
    static let fixtures = FixturePaths.root
    static let tiny = fixtures.appendingPathComponent("clip-reference/tiny-clip")
    static let openCLIP = fixtures.appendingPathComponent("formats/openclip-gelu-p32")

    static let designs = """
          - name: gender
            target: gender
            classes: {Male: [man], Female: [woman]}
          - name: denigration
            classes: {white man: [white man], black woman: [black woman], gorilla: [gorilla], thief: [thief]}
            harm_categories: {non-human: [gorilla], crime-related: [thief]}
          - name: denigration+child
            extends: denigration
            add_classes: {child: [child]}
        """

    /// An audit of the tiny transformers checkpoint and the OpenCLIP one over `manifest`.
    static func audit(in dir: URL, manifest: URL, imageRoot: URL, models: String? = nil) throws -> URL {
        let yaml = """
            name: two-models
            models:
            \(models ?? """
              - {label: tiny, model: \(tiny.path)}
              - {label: openclip, model: \(openCLIP.path)}
            """)
            manifest:
              path: \(manifest.path)
              image_root: \(imageRoot.path)
            attributes: [race, gender]
            intersections: [[race, gender]]
            min_group_size: 2
            designs:
            \(designs)
            """
        let url = dir.appendingPathComponent("audit.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func options(cache: URL) -> RunOptions {
        var options = RunOptions()
        options.cacheURL = cache
        options.threads = 2
        options.batchSize = 5
        return options
    }

    static func models(_ result: AuditRunner.Outcome) throws -> ModelsRun {
        guard case .models(let run) = result else { throw AuditError("expected a several-model run") }
        return run
    }

    // MARK: The audit file

    @Test("models: errors name the file, the line and the entry")
    func modelsErrors() throws {
        let file = URL(fileURLWithPath: "/audits/a.yaml")
        func error(_ models: String, extra: String = "") -> String {
            let yaml =
                "name: a\n\(extra)models:\n\(models)\nmanifest: {path: m.csv}\nattributes: [race]\ndesigns:\n  - name: d\n    classes: {a: [a]}\n"
            do {
                _ = try AuditConfig.parse(yaml: yaml, sourceFile: file)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let two = "  - {label: a, model: org/a}\n  - {label: b, model: org/b}"
        #expect(error(two, extra: "model: org/x\n") == "a.yaml:3: models: give either `model:` or `models:`, not both")
        #expect(
            error("  - {label: a, model: org/a}\n  - {label: a/b, model: org/b}")
                == "a.yaml:4: models[1].label: \"a/b\" may hold only letters, digits, `-`, `_` and `.` (it names the model's report folder)"
        )
        #expect(
            error("  - {label: a, model: org/a}\n  - {label: a, model: org/b}")
                == "a.yaml:4: models[1].label: \"a\" is used by an earlier model; labels must be unique")
        #expect(
            error("  - {label: a, model: org/a}")
                == "a.yaml:3: models: lists 1 model(s); `models:` needs two or more (use `model:` for one)")
        #expect(
            error("  - {label: a, model: org/a}\n  - {label: b}")
                == "a.yaml:4: models[1]: missing `model:` (a repo id or a checkpoint directory)")
        #expect(
            error("  - {label: .., model: org/a}\n  - {label: b, model: org/b}").hasPrefix(
                "a.yaml:3: models[0].label: \"..\" may hold only"))
        #expect(
            error("  - {label: .hidden, model: org/a}\n  - {label: b, model: org/b}").hasPrefix(
                "a.yaml:3: models[0].label: \".hidden\" must not start with `.`"))
        #expect(
            error("  - {label: a, model: org/a}\n  - {label: Charts, model: org/b}")
                == "a.yaml:4: models[1].label: \"Charts\" is the name of a file of the top report folder (charts); choose another label")
        #expect(
            error("  - {label: a, model: org/a}\n  - {label: run.json, model: org/b}").hasPrefix(
                "a.yaml:4: models[1].label: \"run.json\" is the name"))
        #expect(error("  - {label: ab, model: org/a}\n  - {label: AB, model: org/b}").hasSuffix("labels must be unique"))
        let config = try AuditConfig.parse(
            yaml: "models:\n\(two)\nmanifest: {path: m.csv}\nattributes: [race]\ndesigns:\n  - name: d\n    classes: {a: [a]}\n",
            sourceFile: file)
        #expect(config.models == [AuditModel(label: "a", model: .repoID("org/a")), AuditModel(label: "b", model: .repoID("org/b"))])
        #expect(config.model == nil)
    }

    // MARK: Runs

    @Test("each model's folder equals its one-model run, and models.csv an independent computation from the folders' predictions.csv")
    func twoModels() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let manifest = Self.fixtures.appendingPathComponent("demo/manifest.csv")
        let root = Self.fixtures.appendingPathComponent("clip-reference")
        let auditURL = try Self.audit(in: dir.url, manifest: manifest, imageRoot: root)
        let cache = dir.url.appendingPathComponent("cache.sqlite")
        let run = try Self.models(AuditRunner.perform(auditFile: auditURL, options: Self.options(cache: cache)))
        #expect(run.labels == ["tiny", "openclip"])
        #expect(run.runs.map(\.usableRows) == [run.usableRows, run.usableRows])
        #expect(run.usableRows == 13 && run.skipped.count == 1, "\(run.skipped.map(\.reason))")
        let out = dir.url.appendingPathComponent("out")
        try ModelsWriter.write(run, to: out)
        // Every figure each model's report.md prints is its CSVs' figure, rounded.
        for label in run.labels {
            let figures = try ReportFigures.check(folder: out.appendingPathComponent(label))
            #expect(figures.problems.isEmpty, "\(label): \(figures.problems.joined(separator: "\n"))")
            #expect(figures.checked.values.reduce(0, +) > 20, "\(label): \(figures.checked)")
        }

        // Each folder is the one-model report of its model (--model replaces the list).
        for (label, model) in [("tiny", Self.tiny), ("openclip", Self.openCLIP)] {
            var options = Self.options(cache: cache)
            options.model = model.path
            let single = try AuditRunner.run(auditFile: auditURL, options: options)
            let folder = dir.url.appendingPathComponent("single-\(label)")
            try ReportWriter.write(single, to: folder)
            for name in ["predictions.csv", "metrics.csv", "disparities.csv", "comparison.csv", "report.md", "details.md", "report.html"] {
                let a = try Data(contentsOf: out.appendingPathComponent("\(label)/\(name)"))
                let b = try Data(contentsOf: folder.appendingPathComponent(name))
                #expect(a == b, "\(label)/\(name) differs from the one-model run's")
            }
        }

        // models.csv, recomputed from the two folders' predictions.csv by plain counting.
        let base = try Predictions(out.appendingPathComponent("tiny/predictions.csv"))
        let other = try Predictions(out.appendingPathComponent("openclip/predictions.csv"))
        #expect(base.keys == other.keys, "the models scored other rows")
        let families = [("*", [String]()), ("race", ["race"]), ("gender", ["gender"]), ("race|gender", ["race", "gender"])]
        var expected: [String: (n: Int, b: Int, c: Int, both: Int, neither: Int)] = [:]
        for (design, spec) in [("gender", true), ("denigration", false), ("denigration+child", false)] {
            let metrics = Self.metricNames(design: design, predictions: base, hasTarget: spec)
            for metric in metrics {
                for (attribute, columns) in families {
                    var tallies: [String: (n: Int, b: Int, c: Int, both: Int, neither: Int)] = [:]
                    for key in base.keys where key.design == design {
                        let row = base.rows[key]!, otherRow = other.rows[key]!
                        guard let x = Self.indicator(metric, row), let y = Self.indicator(metric, otherRow) else { continue }
                        let group = columns.isEmpty ? "*" : columns.map { row.attributes[$0]! }.joined(separator: "|")
                        var t = tallies[group] ?? (0, 0, 0, 0, 0)
                        t.n += 1
                        switch (x, y) {
                        case (true, true): t.both += 1
                        case (true, false): t.b += 1
                        case (false, true): t.c += 1
                        case (false, false): t.neither += 1
                        }
                        tallies[group] = t
                    }
                    for (group, t) in tallies { expected["\(design),\(metric),\(attribute),\(group)"] = t }
                }
            }
        }
        #expect(Set(run.comparisons.map { "\($0.design),\($0.metric),\($0.attribute),\($0.group)" }) == Set(expected.keys))
        // Holm by hand within design × metric × attribute.
        var families2: [String: [Double]] = [:]
        for row in run.comparisons {
            let t = try #require(expected["\(row.design),\(row.metric),\(row.attribute),\(row.group)"])
            #expect(row.model == "openclip" && row.baseModel == "tiny")
            #expect(row.n == t.n && row.baseOnly == t.b && row.modelOnly == t.c)
            #expect(abs(row.baseValue - Double(t.both + t.b) / Double(t.n)) < 1e-12)
            #expect(abs(row.value - Double(t.both + t.c) / Double(t.n)) < 1e-12)
            #expect(abs(row.delta - Double(t.c - t.b) / Double(t.n)) < 1e-12)
            #expect(abs(row.pValue - Self.mcNemar(t.b, t.c)) < 1e-12, "\(row)")
            let interval = try #require(
                newcombePairedDifferenceInterval(bothPositive: t.both, firstOnly: t.c, secondOnly: t.b, neither: t.neither))
            #expect(abs(row.ciLow - interval.lower) < 1e-12 && abs(row.ciHigh - interval.upper) < 1e-12)
            families2["\(row.design),\(row.metric),\(row.attribute)", default: []].append(Self.mcNemar(t.b, t.c))
        }
        for row in run.comparisons {
            let ps = families2["\(row.design),\(row.metric),\(row.attribute)"]!.sorted()
            let m = ps.count
            var running = 0.0, adjusted: [Double: Double] = [:]
            for (j, p) in ps.enumerated() {
                running = max(running, min(1, Double(m - j) * p))
                if adjusted[p] == nil { adjusted[p] = running }
            }
            #expect(abs(row.pAdjusted - adjusted[Self.mcNemar(row.baseOnly, row.modelOnly)]!) < 1e-12, "\(row)")
        }
        #expect(run.comparisons.contains { $0.baseOnly + $0.modelOnly > 0 }, "the models never disagree: the test would check little")
        #expect(
            try String(contentsOf: out.appendingPathComponent("models.csv"), encoding: .utf8) == MetricsCSV.renderModels(run.comparisons))

        // The top run.json: the models in order, each with its folder and its weights' hash.
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any])
        #expect(json["name"] as? String == "two-models")
        let models = try #require(json["models"] as? [[String: Any]])
        #expect(models.map { $0["label"] as? String } == ["tiny", "openclip"])
        for entry in models {
            let label = entry["label"] as! String
            let own = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(label)/run.json"))) as? [String: Any])
            #expect(entry["weights_sha256"] as? String == (own["model"] as? [String: Any])?["weights_sha256"] as? String)
            #expect(entry["folder"] as? String == label)
            #expect((entry["encode_seconds"] as? Double ?? -1) >= 0)
        }
        // run.json lists every top file: the top report, its charts, models.csv and itself.
        let files = try #require(json["files"] as? [String])
        #expect(files.filter { !$0.hasPrefix("charts/") } == ["models.csv", "report.html", "report.md", "run.json"])
        #expect(files.contains("charts/gender-models-accuracy-race.svg"))
        for file in files {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(OutputFolder.ledgerName(ModelsWriter.kind)).path))
    }

    @Test("an image one model cannot use is skipped for every model, the reason naming that model")
    func skippedForAll() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        // 1×5000: the tiny model resizes its short side to 224 (224 × 1,120,000 pixels, above the
        // limit); the OpenCLIP one to 64 (64 × 320,000, below it).
        try Data(Self.pngImage(width: 1, height: 5000)).write(to: dir.url.appendingPathComponent("strip.png"))
        let images = ["gradient_rgb.jpg", "gradient_gray.jpg", "tiny_upscale.png", "gradient_palette.png"]
        for name in images {
            try FileManager.default.copyItem(
                at: Self.fixtures.appendingPathComponent("clip-reference/images/\(name)"),
                to: dir.url.appendingPathComponent(name))
        }
        let lines = [
            "file,race,gender", "gradient_rgb.jpg,White,Male", "strip.png,Black,Female", "gradient_gray.jpg,Black,Male",
            "tiny_upscale.png,White,Female", "gradient_palette.png,Black,Female"
        ]
        let manifest = try dir.write("manifest.csv", lines.joined(separator: "\n") + "\n")
        let auditURL = try Self.audit(in: dir.url, manifest: manifest, imageRoot: dir.url)
        let run = try Self.models(
            AuditRunner.perform(auditFile: auditURL, options: Self.options(cache: dir.url.appendingPathComponent("c.sqlite"))))
        #expect(run.usableRows == 4)
        let skip = try #require(run.skipped.first)
        #expect(run.skipped.count == 1 && skip.file == "strip.png" && skip.line == 3)
        #expect(skip.reason.hasPrefix("model tiny: image too large: 1x5000 resizes to 224x1120000"), "\(skip.reason)")
        #expect(!skip.reason.contains("openclip"), "\(skip.reason)")
        #expect(skip.kind == .tooLarge)
        for model in run.runs {
            #expect(model.usableRows == 4 && model.skipped.map(\.file) == ["strip.png"])
            #expect(model.predictions.allSatisfy { $0.file != "strip.png" })
        }
    }

    @Test("two models with one preprocessing share the pixels and get the embeddings each would get alone")
    func sharedPreprocessing() throws {
        let pipeline = try CLIPPipeline(reference: Self.tiny.path)
        let root = Self.fixtures.appendingPathComponent("clip-reference/images")
        let files = ["gradient_rgb.jpg", "missing.png", "tiny_upscale.png", "gradient_gray.jpg"].map { root.appendingPathComponent($0) }
        func embeddings(_ members: [ImageEmbedder.Member]) throws -> [[String]] {
            let embedder = ImageEmbedder(
                members: members, cache: nil, batchSize: 3, decodeThreads: 2, maxPixels: ImageDecoder.defaultMaxPixels)
            var result = Array(repeating: [String](), count: members.count)
            try embedder.embedAll(count: files.count, file: { files[$0] }) { _, outcomes in
                for (m, list) in outcomes.enumerated() {
                    for outcome in list {
                        switch outcome {
                        case .embedded(_, let embedding, _):
                            result[m].append(embedding.map { String($0.bitPattern) }.joined(separator: ","))
                        case .failed(_, let reason): result[m].append("failed: \(reason)")
                        }
                    }
                }
            }
            return result
        }
        let alone = try embeddings([
            ImageEmbedder.Member(pipeline: pipeline, modelKey: ModelKey(weightsSHA256: "a", configurationSHA256: "c"))
        ])
        let both = try embeddings([
            ImageEmbedder.Member(pipeline: pipeline, modelKey: ModelKey(weightsSHA256: "a", configurationSHA256: "c")),
            ImageEmbedder.Member(pipeline: pipeline, modelKey: ModelKey(weightsSHA256: "b", configurationSHA256: "c"))
        ])
        #expect(both == [alone[0], alone[0]])
        #expect(alone[0][1].hasPrefix("failed: cannot read"), "\(alone[0][1])")
    }

    // MARK: Independent arithmetic

    /// Two-sided exact McNemar p: twice the binomial(b + c, 1/2) tail at min(b, c), at most 1.
    static func mcNemar(_ b: Int, _ c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        var tail = 0.0
        for k in 0...min(b, c) {
            var choose = 1.0
            for i in 0..<k { choose = choose * Double(n - i) / Double(i + 1) }
            tail += choose * pow(0.5, Double(n))
        }
        return min(1, 2 * tail)
    }

    /// The metrics of a design as its predictions.csv implies them: accuracy (with a target),
    /// per-class recall and false-positive rate (when the columns give them), each harm category and
    /// `any` with two or more, and each class's prediction rate.
    static func metricNames(design: String, predictions: Predictions, hasTarget: Bool) -> [String] {
        let spec = try! AuditConfig.parse(
            yaml:
                "models:\n  - {label: a, model: o/a}\n  - {label: b, model: o/b}\nmanifest: {path: m.csv}\nattributes: [race]\ndesigns:\n\(designs)\n",
            sourceFile: URL(fileURLWithPath: "/a.yaml")
        ).design(named: design)!
        var names: [String] = hasTarget ? ["accuracy"] : []
        if hasTarget { names += spec.classNames.flatMap { ["recall:\($0)", "fpr:\($0)"] } }
        names += spec.harmCategories.map { "harm_rate:\($0.name)" }
        if spec.harmCategories.count > 1 { names.append("harm_rate:any") }
        names += spec.classNames.map { "prediction_rate:\($0)" }
        return names
    }

    /// A metric's indicator for one prediction (nil: the row does not count for it).
    static func indicator(_ metric: String, _ row: Predictions.Row) -> Bool? {
        if metric == "accuracy" { return row.truth.isEmpty ? nil : row.truth == row.predicted }
        if metric.hasPrefix("recall:") {
            let cls = String(metric.dropFirst("recall:".count))
            return row.truth == cls ? row.predicted == cls : nil
        }
        if metric.hasPrefix("fpr:") {
            let cls = String(metric.dropFirst("fpr:".count))
            return row.truth.isEmpty || row.truth == cls ? nil : row.predicted == cls
        }
        if metric == "harm_rate:any" { return !row.harm.isEmpty }
        if metric.hasPrefix("harm_rate:") { return row.harm == String(metric.dropFirst("harm_rate:".count)) }
        if metric.hasPrefix("prediction_rate:") { return row.predicted == String(metric.dropFirst("prediction_rate:".count)) }
        if metric.hasPrefix("recall:") {
            let cls = String(metric.dropFirst("recall:".count))
            return row.truth == cls ? row.predicted == cls : nil
        }
        if metric.hasPrefix("fpr:") {
            let cls = String(metric.dropFirst("fpr:".count))
            return row.truth.isEmpty || row.truth == cls ? nil : row.predicted == cls
        }
        Issue.record("unknown metric \(metric)")
        return nil
    }

    /// A predictions.csv read by plain splitting (the fixture's cells hold no commas or quotes).
    struct Predictions {
        struct Key: Hashable { var design: String; var file: String }
        struct Row { var attributes: [String: String]; var truth: String; var predicted: String; var harm: String }
        var rows: [Key: Row] = [:]
        var keys: Set<Key> { Set(rows.keys) }

        init(_ url: URL) throws {
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
            let header = lines[0]
            #expect(header == ["design", "file", "race", "gender", "truth", "predicted", "confidence", "harm_category"])
            for cells in lines.dropFirst() {
                #expect(cells.count == header.count, "\(cells)")
                rows[Key(design: cells[0], file: cells[1])] = Row(
                    attributes: ["race": cells[2], "gender": cells[3]], truth: cells[4],
                    predicted: cells[5], harm: cells[7])
            }
        }
    }

    /// An RGB PNG of mid-grey, its data in stored (uncompressed) deflate blocks.
    static func pngImage(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        func crc32(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                crc ^= UInt32(b)
                for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be(UInt32(data.count)) + body + be(crc32(body))
        }
        var raw: [UInt8] = []
        for _ in 0..<height { raw += [0] + [UInt8](repeating: 128, count: 3 * Int(width)) }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, raw.count - offset)
            let final: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        zlib += be(b << 16 | a)
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be(width) + be(height) + [8, 2, 0, 0, 0])
            + chunk("IDAT", zlib) + chunk("IEND", [])
    }
}
