import Foundation
import Testing

/// What `validate` prints for a first run: each error once, a last line that says whether the
/// audit is ready, the model named without its path twice, and a mistyped audit file's folder
/// and nearest name.
@Suite("validate messages")
struct ValidateMessagesTests {
    @Test("a good audit ends with one line saying it is ready and how to run it")
    func readyLine() throws {
        let result = try CLI.run(["validate", "Audits/demo.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        let last = try #require(lines.last)
        // The demo has 13 usable rows and warnings (a missing image, small groups) above.
        #expect(last.hasPrefix("audit ready: 13 usable rows, "), "\(result.stdout)")
        #expect(last.contains("warnings above"), "\(last)")
        #expect(last.hasSuffix("; run it with: clip-audit run Audits/demo.yaml"), "\(last)")
        #expect(lines.filter { $0.hasPrefix("audit ready") }.count == 1, "\(result.stdout)")
        #expect(!result.stderr.contains("clip-audit:"), "\(result.stderr)")
    }

    @Test("a local checkpoint's model line names its path once")
    func modelLineOnce() throws {
        let result = try CLI.run(["validate", "Audits/demo.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        let model = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("model: ") })
        let path = CLI.tinyCLIP.standardizedFileURL.path
        #expect(model == "model: \(path)", "\(model)")
    }

    @Test("an audit with errors prints each error once, on stderr, and no ready line")
    func eachErrorOnce() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        // No White row (the reference group) and a label value no class names: two errors of
        // the manifest; a mistyped --model adds a third of another kind.
        let files = try ws.makeImages(3)
        try ws.writeManifest([
            "\(files[0]),Male,Black", "\(files[1]),Femal,Asian", "\(files[2]),Female,Black"
        ])
        try ws.writeAudit()
        let result = try CLI.run(["validate", ws.audit.path, "--model", ws.path("tiny-clp")])
        #expect(result.status == 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("clip-audit: ") }
        #expect(errors.count >= 3, "\(result.stderr)")
        #expect(errors.contains { $0.contains("tiny-clp") }, "\(result.stderr)")
        #expect(errors.contains { $0.contains("Femal") }, "\(result.stderr)")
        #expect(errors.contains { $0.contains("White") }, "\(result.stderr)")
        let all = result.stdout + result.stderr
        for error in errors {
            let text = String(error.dropFirst("clip-audit: ".count))
            #expect(all.components(separatedBy: text).count - 1 == 1, "printed more than once: \(text)\n\(all)")
        }
        #expect(!result.stdout.split(separator: "\n").contains { $0.hasPrefix("error:") }, "\(result.stdout)")
        #expect(!all.contains("audit ready"), "\(all)")
    }

    @Test("a mistyped audit file keeps its folder and gets the nearest file of that folder")
    func mistypedAuditFile() throws {
        let typo = try CLI.run(["validate", "Audits/demo.ymal"])
        #expect(typo.status == 1)
        #expect(
            typo.stderr == "clip-audit: demo.ymal: audit file not found in Audits/; did you mean Audits/demo.yaml?\n", "\(typo.stderr)")
        // Nothing near: the folder, no guess.
        let far = try CLI.run(["validate", "Audits/zzzzzzzzzz.yaml"])
        #expect(far.stderr == "clip-audit: zzzzzzzzzz.yaml: audit file not found in Audits/\n", "\(far.stderr)")
        // A folder that does not exist is named as such.
        let folder = try CLI.run(["validate", "Audit/demo.yaml"])
        #expect(folder.stderr == "clip-audit: demo.yaml: audit file not found: there is no folder Audit\n", "\(folder.stderr)")
        // The current folder, from a name alone.
        let here = try CLI.run(["validate", "demo.ymal"], in: CLI.packageRoot.appendingPathComponent("Audits"))
        #expect(here.stderr == "clip-audit: demo.ymal: audit file not found in ./; did you mean demo.yaml?\n", "\(here.stderr)")
    }

    @Test("an error line shows escape, bidi-override and separator characters by code point")
    func invisibleCharactersInErrorLine() throws {
        // ESC [31m would turn the terminal red; U+202E would make "lmay.x" read backwards; U+2028
        // would break the one line in two.
        let name = "x\u{1B}[31m\u{202E}lmay\u{2028}.yaml"
        let result = try CLI.run(["validate", "Audits/" + name])
        #expect(result.status == 1)
        #expect(
            result.stderr == "clip-audit: x<U+001B>[31m<U+202E>lmay<U+2028>.yaml: audit file not found in Audits/\n",
            "\(result.stderr)")
        #expect(!result.stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E || $0.value == 0x2028 })
    }
}
