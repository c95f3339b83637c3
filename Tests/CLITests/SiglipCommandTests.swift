import CLIPEngine
import Foundation
import TestSupport
import Testing

/// The commands on the SigLIP fixtures (Fixtures/siglip/), checked against transformers' outputs.
@Suite struct SiglipCommandTests {
    func checkpoint(_ name: String) -> URL { FixturePaths.root.appendingPathComponent("siglip/\(name)") }

    @Test func modelInfoNamesTheFormatAndWhoseNumerics() throws {
        let result = try CLI.run(["model", "info", checkpoint("siglip2").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("format:     Hugging Face transformers, SigLIP"), "\(result.stdout)")
        #expect(result.stdout.contains("numerics:   transformers SiglipModel + SiglipProcessor"))
        #expect(result.stdout.contains("SigLIP 2: Gemma's SentencePiece BPE with byte fallback"))
        #expect(result.stdout.contains("30 px, patch 6, 2 layers × 40 wide, 5 heads, MLP 68, gelu_pytorch_tanh"))
        #expect(result.stdout.contains("sigmoid(exp(logit_scale) × cosine + logit_bias)"))
    }

    /// `embed`'s tensors are transformers' (input_ids padded to the model's text length).
    @Test(arguments: ["siglip", "siglip2"]) func embedMatchesTransformers(name: String) throws {
        let golden = try SafeTensorsFile(url: FixturePaths.root.appendingPathComponent("siglip/\(name).safetensors"))
        let index =
            try JSONSerialization.jsonObject(with: Data(contentsOf: FixturePaths.root.appendingPathComponent("siglip/\(name).json")))
            as! [String: Any]
        let images = index["images"] as! [String], texts = index["texts"] as! [String]
        let dir = try CLI.temporaryDirectory("embed-\(name)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let textsFile = dir.appendingPathComponent("texts.txt")
        // One text a line: the ones with line breaks go as --text.
        let plain = texts.filter { !$0.contains("\n") }, multiline = texts.filter { $0.contains("\n") }
        try (plain.joined(separator: "\n") + "\n").write(to: textsFile, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.safetensors")
        var args = ["embed", "--model", checkpoint(name).path, "--output", out.path, "--texts-file", textsFile.path]
        for text in multiline { args += ["--text", text] }
        for image in images { args += ["--image", FixturePaths.clipReference.appendingPathComponent("images/\(image)").path] }
        let result = try CLI.run(args)
        #expect(result.status == 0, "\(result.stderr)")
        let ours = try SafeTensorsFile(url: out)
        #expect(try ours.info("input_ids").shape == [texts.count, 16])
        #expect(try ours.floats("pixel_values") == golden.floats("pixel_values"))
        // Rows in our order: --text rows come first, then the file's.
        let order = multiline + plain
        let goldenIDs = try golden.integers("input_ids"), ourIDs = try ours.integers("input_ids")
        for (row, text) in order.enumerated() {
            let g = texts.firstIndex(of: text)!
            #expect(Array(ourIDs[(row * 16)..<((row + 1) * 16)]) == Array(goldenIDs[(g * 16)..<((g + 1) * 16)]), "\(text.debugDescription)")
        }
        let a = try ours.floats("image_embeds"), b = try golden.floats("image_embeds")
        let worst = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * b.map(abs).max()!, "image_embeds: \(worst)")
    }

    @Test func classifySaysItsScoresAreSigmoidsAndBenchRuns() throws {
        let image = FixturePaths.clipReference.appendingPathComponent("images/real_chelsea.png").path
        let result = try CLI.run(["classify", "--model", checkpoint("siglip").path, image, "--label", "a cat", "--label", "a dog"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("real_chelsea.png"))
        #expect(result.stderr.contains("sigmoid"))
        let bench = try CLI.run(["bench", "--model", checkpoint("siglip2").path, "--batch", "2", "--seconds", "0.2"])
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect(bench.stdout.contains("\"images_per_s\""))
    }
}
