import CLIPEngine
import Foundation
import TestSupport
import Testing

/// The commands on an OpenCLIP checkpoint (Fixtures/formats/openclip-gelu-p32: exact GELU, F16
/// `open_clip_pytorch_model.bin`, the bundled tokenizer), checked against open_clip's outputs.
@Suite struct FormatCommandTests {
    let openCLIP = FixturePaths.root.appendingPathComponent("formats/openclip-gelu-p32")
    func image(_ name: String) -> String { CLI.fixtures.appendingPathComponent("images/\(name)").path }

    @Test func modelInfoSaysTheFormatAndItsReference() throws {
        let result = try CLI.run(["model", "info", openCLIP.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("format:     OpenCLIP"), "\(result.stdout)")
        #expect(result.stdout.contains("numerics:   open_clip"))
        #expect(result.stdout.contains("64 px, patch 32, 3 layers × 36 wide, 3 heads, MLP 144, gelu"))
        #expect(result.stdout.contains("pooled at argmax(input_ids)"))
        #expect(result.stdout.contains("(F16)"))
        let openAI = try CLI.run(["model", "info", FixturePaths.root.appendingPathComponent("formats/openai-p16/ViT-tiny.pt").path])
        // The 600-token test vocabulary cannot take the bundled tokenizer's ids: one line.
        #expect(openAI.status == 1)
        #expect(
            openAI.stderr.split(separator: "\n").count == 1 && openAI.stderr.contains("ViT-tiny.pt: the text tower has a vocabulary of 600")
        )
    }

    @Test func embedMatchesOpenCLIP() throws {
        let golden = try SafeTensorsFile(url: openCLIP.appendingPathComponent("golden.safetensors"))
        let index =
            try JSONSerialization.jsonObject(with: Data(contentsOf: FixturePaths.root.appendingPathComponent("formats/golden.json")))
            as! [String: Any]
        let images = index["images"] as! [String], prompts = index["prompts"] as! [String]
        let dir = try CLI.temporaryDirectory("embed-openclip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.safetensors")
        var args = ["embed", "--model", openCLIP.path, "--output", out.path]
        for name in images { args += ["--image", image(name)] }
        for text in prompts { args += ["--text", text] }
        let result = try CLI.run(args)
        #expect(result.status == 0, "\(result.stderr)")
        let ours = try SafeTensorsFile(url: out)
        // Counted, not compared as arrays: a failing == would print and diff every value.
        let pixels = try ours.floats("pixel_values"), expectedPixels = try golden.floats("pixel_values")
        let differing = zip(pixels, expectedPixels).filter { $0 != $1 }.count
        #expect(pixels.count == expectedPixels.count && differing == 0, "\(differing) pixel values differ")
        #expect(try ours.integers("input_ids") == golden.integers("input_ids"))
        for name in ["image_embeds", "text_embeds"] {
            let a = try ours.floats(name), b = try golden.floats(name)
            let scale = b.map(abs).max()!
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            print("parity embed openclip-gelu-p32 \(name): max abs \(worst), relative to the largest |value| \(worst / scale)")
            // Against open_clip: achieved 4.4e-7 (images) and 2.2e-7 (texts) of the largest |value|.
            #expect(a.count == b.count && worst <= 3e-6 * scale, "\(name): \(worst)")
        }
        let logits = zip(try ours.floats("logits_per_image"), try golden.floats("logits_per_image")).map { abs($0 - $1) }.max()!
        print("parity embed openclip-gelu-p32 logits_per_image: max abs \(logits)")
        // Against open_clip's logits (scale 100): achieved 2.1e-5.
        #expect(logits <= 1e-4)
    }

    @Test func classifyAndBenchRunOnOpenCLIP() throws {
        let result = try CLI.run(["classify", "--model", openCLIP.path, image("real_chelsea.png"), "--label", "a cat", "--label", "a dog"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("real_chelsea.png"))
        let bench = try CLI.run(["bench", "--model", openCLIP.path, "--batch", "2", "--seconds", "0.2"])
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect(bench.stdout.contains("\"images_per_s\""))
    }
}
