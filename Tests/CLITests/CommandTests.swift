import CLIPEngine
import Foundation
import TestSupport
import Testing

/// The commands as a user runs them: real processes of the built executable, checked against
/// transformers' outputs (the fixtures) where they print numbers, and for one-line errors.
@Suite struct CommandTests {
    let tiny = CLI.fixtures.appendingPathComponent("tiny-clip").path
    func image(_ name: String) -> String { CLI.fixtures.appendingPathComponent("images/\(name)").path }

    /// The golden order of images and texts (golden.json).
    func golden() throws -> (images: [String], texts: [String], tensors: SafeTensorsFile) {
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: CLI.fixtures.appendingPathComponent("golden.json"))) as! [String: Any]
        let tensors = try SafeTensorsFile(url: CLI.fixtures.appendingPathComponent("golden.safetensors"))
        return (json["images"] as! [String], json["texts"] as! [String], tensors)
    }

    /// Rows `rows` (each of `width` values) of a row-major matrix.
    func rows(_ values: [Float], width: Int, _ rows: [Int]) -> [Float] {
        rows.flatMap { values[($0 * width)..<(($0 + 1) * width)] }
    }

    @Test func embedMatchesTransformers() throws {
        let (images, texts, reference) = try golden()
        let pickImages = [0, 7, 10] // a photo, RGBA over white, the extreme aspect ratio
        let pickTexts = [0, 3, 21, 24, 29] // plain, punctuation, accents, HTML entities, truncated to 77
        let dir = try CLI.temporaryDirectory("embed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.safetensors")
        var args = ["embed", "--model", tiny, "--output", out.path]
        for i in pickImages { args += ["--image", image(images[i])] }
        for t in pickTexts { args += ["--text", texts[t]] }
        let result = try CLI.run(args)
        #expect(result.status == 0, "\(result.stderr)")
        let ours = try SafeTensorsFile(url: out)

        #expect(try ours.info("input_ids").shape == [pickTexts.count, 77])
        let ids = try reference.integers("input_ids")
        #expect(try ours.integers("input_ids") == pickTexts.flatMap { ids[($0 * 77)..<(($0 + 1) * 77)] })

        let pixelWidth = 3 * 224 * 224
        let pixels = try ours.floats("pixel_values")
        let expectedPixels = rows(try reference.floats("pixel_values"), width: pixelWidth, pickImages)
        // Bit-identical to transformers' processor (achieved on every fixture image). Counted,
        // not compared as arrays: a failing == would print and diff 450,000 values.
        let differing = zip(pixels, expectedPixels).filter { $0 != $1 }.count
        #expect(pixels.count == expectedPixels.count && differing == 0, "\(differing) pixel values differ")

        for (name, width, picks) in [("image_embeds", 24, pickImages), ("text_embeds", 24, pickTexts)] {
            let got = try ours.floats(name)
            let want = rows(try reference.floats(name), width: width, picks)
            #expect(got.count == want.count)
            var worst: Float = 0
            for r in 0..<picks.count {
                let scale = max(1e-6, want[(r * width)..<((r + 1) * width)].map(abs).max()!)
                let diff = (0..<width).map { abs(got[r * width + $0] - want[r * width + $0]) }.max()!
                worst = max(worst, diff / scale)
                // Against transformers: achieved 8.6e-7 (images), 4.3e-7 (texts) of the row's largest value.
                #expect(diff / scale <= 5e-6, "\(name) row \(r): relative difference \(diff / scale)")
            }
            print("parity embed \(name): max rel \(worst)")
        }
        let logits = try ours.floats("logits_per_image")
        let allLogits = try reference.floats("logits_per_image")
        var worstLogit: Float = 0
        for (a, i) in pickImages.enumerated() {
            for (b, t) in pickTexts.enumerated() {
                let diff = abs(logits[a * pickTexts.count + b] - allLogits[i * texts.count + t])
                worstLogit = max(worstLogit, diff)
                // Against transformers' logits (scale 100): achieved 3.0e-5.
                #expect(diff <= 1e-4, "logit \(a), \(b): \(diff)")
            }
        }
        print("parity embed logits_per_image: max abs \(worstLogit)")
    }

    @Test func classifyPrintsTheSoftmaxOfTransformersLogits() throws {
        let (images, texts, reference) = try golden()
        let result = try CLI.run([
            "classify", "--model", tiny, image(images[1]), image(images[2]),
            "--label", texts[0], "--label", texts[1]
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        let logits = try reference.floats("logits_per_image")
        for (row, imageIndex) in [1, 2].enumerated() {
            let a = Double(logits[imageIndex * texts.count]), b = Double(logits[imageIndex * texts.count + 1])
            let pa = 1 / (1 + exp(b - a))
            let fields = lines[row + 1].split(separator: " ")
            #expect(fields.first.map(String.init) == image(images[imageIndex]))
            let errors = (abs(Double(fields[1])! - pa), abs(Double(fields[2])! - (1 - pa)))
            print("parity classify: \(errors.0), \(errors.1)")
            // Printed to four decimals: half a unit of the last (5e-5) plus the probability's own
            // error, which `run` shows to be under 3.2e-6 (achieved here: 4.5e-5 in all).
            #expect(errors.0 <= 6e-5 && errors.1 <= 6e-5)
        }
    }

    /// The demo audit's report.md prints its CSVs' figures (TestSupport's `ReportFigures`), on the
    /// real pipeline's output rather than a hand-built run.
    @Test func demoReportFiguresAreTheCSVsFigures() throws {
        let dir = try CLI.temporaryDirectory("demo-figures")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("report")
        let run = try CLI.run(["run", "Audits/demo.yaml", "--output", out.path, "--no-cache"])
        #expect(run.status == 0, "\(run.stderr)")
        let figures = try ReportFigures.check(folder: out)
        #expect(figures.problems.isEmpty, "\(figures.problems.joined(separator: "\n"))")
        #expect(figures.checked.values.reduce(0, +) > 50, "\(figures.checked)")
    }

    /// `classify` with a design's prompts as labels prints what `run` records for that design:
    /// each image's predicted class is the largest column and its confidence (`predictions.csv`,
    /// six significant digits) rounds to the printed four decimals.
    @Test func classifyPrintsWhatRunRecordsForTheSamePrompts() throws {
        let dir = try CLI.temporaryDirectory("classify-run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("report")
        let run = try CLI.run(["run", "Audits/demo.yaml", "--output", out.path, "--no-cache"])
        #expect(run.status == 0, "\(run.stderr)")
        let csv = try String(contentsOf: out.appendingPathComponent("predictions.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(lines.first)
        let column = { (name: String) in header.firstIndex(of: name)! }
        let rows = lines.dropFirst().filter { $0[column("design")] == "denigration" }
        #expect(rows.count == 13)
        // The demo's denigration design: one template, one phrase per class.
        let classes = ["white man", "white woman", "black man", "black woman", "gorilla", "thief", "criminal"]
        let root = CLI.fixtures // Fixtures/clip-reference, the demo's image_root
        let files = rows.map { root.appendingPathComponent($0[column("file")]).path }
        let classify = try CLI.run(["classify", "--model", tiny] + files + classes.flatMap { ["--label", "a photo of a \($0)."] })
        #expect(classify.status == 0, "\(classify.stderr)")
        let printed = classify.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(printed.count == rows.count)
        for (row, cells) in zip(rows, printed) {
            #expect(cells.first == root.appendingPathComponent(row[column("file")]).path)
            let probabilities = cells.dropFirst().map { Double($0)! }
            let predicted = try #require(classes.firstIndex(of: row[column("predicted")]))
            #expect(probabilities[predicted] == probabilities.max(), "\(row)")
            let confidence = try #require(Double(row[column("confidence")]))
            #expect(abs(probabilities[predicted] - confidence) <= 0.00005 + 0.0000005 * confidence, "\(row) vs \(cells)")
        }
    }

    @Test func modelInfoNamesTheCheckpointAndItsSizes() throws {
        let result = try CLI.run(["model", "info", tiny])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("directory:  \(tiny)"))
        #expect(result.stdout.contains("224 px, patch 16, 2 layers × 48 wide, 4 heads"))
        #expect(result.stdout.contains("projection: 24"))
    }

    @Test func validateAcceptsTheDemoAndReportsTheMissingImage() throws {
        let result = try CLI.run(["validate", "Audits/demo.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("not_there.jpg"))
    }

    /// Bad input of several kinds: exit status 1 and exactly one line on stderr naming the file.
    @Test func badInputGivesOneLineNamingTheFile() throws {
        let dir = try CLI.temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let typo = dir.appendingPathComponent("typo.yaml")
        try """
        name: t
        manifest: {path: m.csv}
        attributes: [race]
        desings: []
        """.write(to: typo, atomically: true, encoding: .utf8)
        let notImage = dir.appendingPathComponent("notes.jpg")
        try "hello".write(to: notImage, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["validate", typo.path], "typo.yaml"),
            (["run", typo.path, "--no-cache"], "typo.yaml"),
            (["validate", dir.appendingPathComponent("absent.yaml").path], "absent.yaml"),
            (["classify", "--model", tiny, notImage.path, "--label", "a", "--label", "b"], "notes.jpg"),
            (["model", "info", dir.appendingPathComponent("no-model").path], "no-model"),
            (
                ["embed", "--model", dir.path, "--text", "x", "--output", dir.appendingPathComponent("o.safetensors").path],
                dir.lastPathComponent
            )
        ]
        for (args, name) in cases {
            let result = try CLI.run(args)
            #expect(result.status == 1, "\(args): status \(result.status)")
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(lines.count == 1, "\(args): \(result.stderr)")
            #expect(result.stderr.contains(name), "\(args): \(result.stderr)")
        }
        let typoRun = try CLI.run(["validate", typo.path])
        #expect(typoRun.stderr.contains("typo.yaml:4") && typoRun.stderr.contains("designs"), "\(typoRun.stderr)")
    }
}
