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
                try AuditError.createFolder(directory, "output folder")
                for (name, text) in ModelCardExport.render(folder.data) {
                    let url = directory.appendingPathComponent(name)
                    try AtomicFile.write(text, to: url)
                    print(url.path)
                }
            }
        }
    }
}
