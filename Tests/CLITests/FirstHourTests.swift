import AuditEngine
import CLIPEngine
import Foundation
import Testing

/// Mistakes a new user makes in the first hour: each gives one line that names the file and
/// the likely cause, instead of a misleading consequence further down.
@Suite("first-hour mistakes", .serialized)
struct FirstHourTests {
    /// The lines the binary reports as errors.
    static func errorLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.hasPrefix("clip-audit:") || $0.hasPrefix("Error:") }
    }

    @Test("--cached-only with a mistyped cache path says the file does not exist and creates nothing")
    func cachedOnlyMissingCache() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(3)))
        try ws.writeAudit()
        let typo = ws.path("mergd.sqlite")
        let result = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--cached-only", "--cache", typo, "--threads", "1"])
        #expect(result.status != 0)
        let lines = Self.errorLines(result.stderr)
        #expect(lines.count == 1 && lines[0].contains(typo) && lines[0].contains("no such file"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: typo), "a cache that is only read was created")

        // A shard cache (read only) that does not exist is refused the same way, without --cached-only.
        let shard = ws.path("shard-9.sqlite")
        let second = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("out2"), "--cache", ws.path("c.sqlite"), "--cache", shard, "--threads", "1"
        ])
        #expect(second.status != 0)
        #expect(Self.errorLines(second.stderr).first?.contains(shard) == true, "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: shard))
    }

    @Test("an image_root that doubles the manifest's folder: run and validate name the resolved path and image_root")
    func doubledImageRoot() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(4)))
        try ws.writeAudit()
        // The manifest's paths already start with images/; image_root points into that folder.
        let text = try String(contentsOf: ws.audit, encoding: .utf8)
            .replacingOccurrences(of: "image_root: .}", with: "image_root: images}")
        try text.write(to: ws.audit, atomically: true, encoding: .utf8)
        let doubled = ws.url.appendingPathComponent("images/images/img0000.png").path

        let run = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--threads", "1"])
        #expect(run.status != 0)
        let lines = Self.errorLines(run.stderr)
        #expect(lines.count == 1, "\(run.stderr)")
        #expect(lines.first?.contains("manifest.image_root") == true, "\(run.stderr)")
        #expect(lines.first?.contains(doubled) == true, "\(run.stderr)")
        #expect(lines.first?.contains("4 of 4") == true, "\(run.stderr)")

        let validate = try CLI.run(["validate", ws.audit.path])
        #expect(validate.status != 0)
        let all = validate.stdout + validate.stderr
        #expect(all.components(separatedBy: doubled).count - 1 >= 1, "\(all)")
        #expect(all.contains("already start with images/"), "\(all)")
    }

    @Test("validate resolves the model and decodes the images as run does")
    func validateChecksModelAndImages() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        var files = try ws.makeImages(4)
        // A JPEG cut after its header, and a text file named like an image.
        let jpeg = try Data(contentsOf: CLI.fixtures.appendingPathComponent("images/gradient_rgb.jpg"))
        try jpeg.prefix(jpeg.count / 2).write(to: ws.images.appendingPathComponent("cut.jpg"))
        try Data("not an image\n".utf8).write(to: ws.images.appendingPathComponent("notes.jpg"))
        files += ["images/cut.jpg", "images/notes.jpg"]
        try ws.writeManifest(Workspace.rows(files))
        try ws.writeAudit()

        let good = try CLI.run(["validate", ws.audit.path, "--threads", "2"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("images: 6 decoded, 2 that run would skip"), "\(good.stdout)")
        #expect(good.stdout.contains("(images/cut.jpg): truncated"), "\(good.stdout)")
        #expect(good.stdout.contains("(images/notes.jpg): "), "\(good.stdout)")
        // run skips the same two images.
        let run = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--no-cache", "--threads", "1"])
        #expect(run.status == 0 && run.stderr.contains("2 row(s) skipped"), "\(run.stderr)")

        // Headers only: the text file is still caught, the truncated body is not.
        let quick = try CLI.run(["validate", ws.audit.path, "--headers-only"])
        #expect(quick.stdout.contains("images: 6 headers read, 1 that run would skip"), "\(quick.stdout)")

        // A mistyped model path fails validate as it would fail run.
        let typo = ws.path("tiny-clp")
        let wrongModel = try CLI.run(["validate", ws.audit.path, "--model", typo])
        #expect(wrongModel.status != 0)
        let lines = Self.errorLines(wrongModel.stderr)
        #expect(lines.count == 1 && lines[0].contains(typo), "\(wrongModel.stderr)")
    }

    @Test("run --limit whose rows lack the reference group falls back to the largest group, says so, and notes it in Setup")
    func limitFallsBackToLargestGroup() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        let files = try ws.makeImages(6)
        let races = ["Black", "Asian", "Black", "White", "White", "White"]
        try ws.writeManifest(files.enumerated().map { i, file in "\(file),\(i % 2 == 0 ? "Male" : "Female"),\(races[i])" })
        try ws.writeAudit()

        let limited = try CLI.run(["run", ws.audit.path, "--output", ws.path("smoke"), "--limit", "3", "--no-cache", "--threads", "1"])
        #expect(limited.status == 0, "\(limited.stderr)")
        #expect(limited.stderr.contains("warning: --limit 3: reference group for race is \"Black\""), "\(limited.stderr)")
        let report = try String(contentsOf: URL(fileURLWithPath: ws.path("smoke/report.md")), encoding: .utf8)
        #expect(
            report.contains("| Note | --limit 3: reference group for race is \"Black\" (the largest group), not \"White\""), "\(report)")
        #expect(report.contains("race: Black"), "\(report)")

        // Without --limit an absent reference group stays an error.
        try ws.writeManifest(files.prefix(3).enumerated().map { i, file in "\(file),Male,\(races[i])" })
        let full = try CLI.run(["run", ws.audit.path, "--output", ws.path("full"), "--no-cache", "--threads", "1"])
        #expect(full.status != 0)
        #expect(Self.errorLines(full.stderr).first?.contains("reference group \"White\" has no usable rows") == true, "\(full.stderr)")
    }

    @Test("a mistyped command gets the nearest command's name, on one line")
    func mistypedCommand() throws {
        let typo = try CLI.run(["clasify", "a.png", "b.png"])
        #expect(typo.status != 0)
        #expect(
            typo.stderr == "clip-audit: unknown command 'clasify'; did you mean 'classify'? (see clip-audit --help)\n", "\(typo.stderr)")
        let far = try CLI.run(["frobnicate"])
        #expect(far.status != 0)
        #expect(far.stderr.contains("unknown command 'frobnicate'; the commands are run, validate"), "\(far.stderr)")
        // Real commands, options and help still parse.
        #expect(try CLI.run(["--version"]).status == 0)
        #expect(try CLI.run(["help", "run"]).status == 0)
    }

    @Test("validate given a CSV manifest says it looks like a manifest, not an audit file")
    func validateGivenTheManifest() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(2)))
        let result = try CLI.run(["validate", ws.path("manifest.csv")])
        #expect(result.status != 0)
        let lines = Self.errorLines(result.stderr)
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(
            lines.first?.contains("manifest.csv:1: this looks like a CSV manifest (first line: file,gender,race), not an audit file")
                == true,
            "\(result.stderr)")
        // The same text under another name is recognised by its first line.
        try FileManager.default.copyItem(atPath: ws.path("manifest.csv"), toPath: ws.path("labels.txt"))
        let renamed = try CLI.run(["validate", ws.path("labels.txt")])
        #expect(Self.errorLines(renamed.stderr).first?.contains("looks like a CSV manifest") == true, "\(renamed.stderr)")
    }

    @Test("classify names images by their path as given, in its table and in its errors")
    func classifyShowsPaths() throws {
        let dir = try CLI.temporaryDirectory("classify-paths")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = CLI.fixtures.appendingPathComponent("images/tiny_upscale.png")
        for folder in ["left", "right"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source, to: dir.appendingPathComponent("\(folder)/same.png"))
        }
        let result = try CLI.run(
            [
                "classify", "--model", CLI.tinyCLIP.path, "left/same.png", "right/same.png",
                "--label", "a cat", "--label", "a dog"
            ], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let names = result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(names == ["left/same.png", "right/same.png"], "\(result.stdout)")

        try Data("text".utf8).write(to: dir.appendingPathComponent("right/bad.png"))
        let bad = try CLI.run(
            [
                "classify", "--model", CLI.tinyCLIP.path, "left/same.png", "right/bad.png",
                "--label", "a cat", "--label", "a dog"
            ], in: dir)
        #expect(bad.status != 0)
        #expect(bad.stderr.hasPrefix("clip-audit: right/bad.png: "), "\(bad.stderr)")
    }

    @Test("embed reads texts and images from files, records which row is which, and takes --text=")
    func embedFromFiles() throws {
        let dir = try CLI.temporaryDirectory("embed-files")
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = ["gradient_rgb.jpg", "tiny_upscale.png"].map { CLI.fixtures.appendingPathComponent("images/\($0)").path }
        try (images.joined(separator: "\r\n") + "\r\n").write(
            to: dir.appendingPathComponent("images.txt"), atomically: true, encoding: .utf8)
        try "a photo of a cat\n\na “quoted” dog".write(to: dir.appendingPathComponent("texts.txt"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("o.safetensors")
        let result = try CLI.run([
            "embed", "--model", CLI.tinyCLIP.path, "--text=", "--texts-file", dir.appendingPathComponent("texts.txt").path,
            "--images-file", dir.appendingPathComponent("images.txt").path, "--output", out.path
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let file = try SafeTensorsFile(url: out)
        #expect(file.tensors["text_embeds"]?.shape == [4, 24])
        #expect(file.tensors["image_embeds"]?.shape == [2, 24])
        let texts = try JSONSerialization.jsonObject(with: Data((file.metadata["texts"] ?? "").utf8)) as? [String]
        #expect(texts == ["", "a photo of a cat", "", "a “quoted” dog"])
        let listed = try JSONSerialization.jsonObject(with: Data((file.metadata["images"] ?? "").utf8)) as? [String]
        #expect(listed == images)

        // An empty line in an images file is an error naming the file and line.
        try "\(images[0])\n\n".write(to: dir.appendingPathComponent("gaps.txt"), atomically: true, encoding: .utf8)
        let gaps = try CLI.run([
            "embed", "--model", CLI.tinyCLIP.path, "--images-file", dir.appendingPathComponent("gaps.txt").path, "--output", out.path
        ])
        #expect(gaps.status != 0)
        #expect(Self.errorLines(gaps.stderr).first?.contains("gaps.txt:2: empty line") == true, "\(gaps.stderr)")
    }

    @Test("diff refuses designs that differ under one name, names them, titles A → B and marks † by each run's threshold")
    func diffOfChangedDesigns() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(6)))
        try ws.writeAudit(extra: "min_group_size: 1")
        let a = try CLI.run(["run", ws.audit.path, "--output", ws.path("first"), "--no-cache", "--threads", "1"])
        #expect(a.status == 0, "\(a.stderr)")
        // Run B: the harm design gains a class; the gender design is unchanged; every group is
        // small by run B's threshold.
        try ws.writeAudit(extra: "min_group_size: 50")
        let text = try String(contentsOf: ws.audit, encoding: .utf8)
            .replacingOccurrences(of: "thief: [thief]}", with: "thief: [thief], ape: [ape]}")
        try text.write(to: ws.audit, atomically: true, encoding: .utf8)
        let b = try CLI.run(["run", ws.audit.path, "--output", ws.path("second"), "--no-cache", "--threads", "1"])
        #expect(b.status == 0, "\(b.stderr)")

        let diff = try CLI.run(["diff", ws.path("first"), ws.path("second"), "--output", ws.path("diff")])
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(
            diff.stderr.contains("warning: design \"harm\" differs between the runs: classes differ (3 in A, 4 in B; only in B: \"ape\")"),
            "\(diff.stderr)")
        #expect(diff.stdout.hasPrefix("Run comparison: first → second:"), "\(diff.stdout)")
        let csv = try String(contentsOf: URL(fileURLWithPath: ws.path("diff/diff.csv")), encoding: .utf8)
        #expect(!csv.contains("\nharm,") && csv.contains("\ngender,"), "\(csv)")
        let md = try String(contentsOf: URL(fileURLWithPath: ws.path("diff/diff.md")), encoding: .utf8)
        #expect(md.hasPrefix("# Run comparison: first → second\n"), "\(md)")
        #expect(md.contains("**harm** (not compared)"), "\(md)")
        #expect(md.contains("run A's minimum group size (1) in run A or under run B's (50) in run B"), "\(md)")
        #expect(md.contains("| gender | accuracy | * | * †"), "\(md)")

        let forced = try CLI.run(["diff", ws.path("first"), ws.path("second"), "--output", ws.path("diff2"), "--compare-changed-designs"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let forcedCSV = try String(contentsOf: URL(fileURLWithPath: ws.path("diff2/diff.csv")), encoding: .utf8)
        #expect(forcedCSV.split(separator: "\n").contains { $0.hasPrefix("harm,") && $0.hasSuffix(",true") }, "\(forcedCSV)")
    }

    @Test("run --help names every file and folder a run writes")
    func runHelpNamesEveryFile() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(3)))
        try ws.writeAudit()
        let run = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--no-cache", "--threads", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: ws.path("out"))
        #expect(written.contains("charts") && written.contains("report.html"), "\(written)")
        let help = try CLI.run(["run", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ").filter { !$0.isEmpty }.joined(separator: " ")
        for name in written {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: ws.path("out/\(name)"), isDirectory: &isDirectory)
            #expect(exists, "\(name) is listed but cannot be seen")
            #expect(help.contains(isDirectory.boolValue ? "\(name)/" : name), "run --help does not name \(name)")
        }
    }
}
