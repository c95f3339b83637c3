import ArgumentParser
import AuditEngine
import CLIPEngine
import Foundation

extension ClipAudit {
    /// `clip-audit card REPORT_DIR`: model-card exports from a finished run's report folder.
    struct Card: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write model-card exports from a report folder: a Markdown fairness section, a Hugging Face model-index block and Model Card Toolkit JSON.",
            discussion: "Writes fairness.md, model-index.yaml and model-card.json into --output (default: REPORT_DIR/card).")

        @Argument(help: "A report folder written by `clip-audit run`.")
        var reportDir: String

        @Option(name: .long, help: ArgumentHelp("Where to write the exports (default: REPORT_DIR/card).", valueName: "DIR"))
        var output: String?

        func run() throws {
            try reportingErrors {
                let folder = try ReportFolder.read(URL(fileURLWithPath: reportDir))
                let directory = URL(fileURLWithPath: output ?? (reportDir as NSString).appendingPathComponent("card"))
                let exports = ModelCardExport.render(folder.data)
                let names = exports.map(\.name)
                // A card folder from before ledgers: the exports, all of them, which only `card` writes together.
                var output = try OutputFolder(url: directory, kind: "card", files: names) { url in
                    names.allSatisfy { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) } ? Set(names) : []
                }
                for (name, text) in exports {
                    let url = directory.appendingPathComponent(name)
                    try AtomicFile.write(text, to: url)
                    print(url.path)
                }
                try output.finish()
            }
        }
    }
}
