import ArgumentParser
import AuditEngine
import CLIPEngine
import Foundation

extension ClipAudit {
    /// `clip-audit card REPORT_DIR`: model-card exports from a finished run's report folder.
    struct Card: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write model-card exports from a report folder: a Markdown fairness section, a Hugging Face model-index block and Model Card Toolkit JSON.",
            discussion:
                "Writes fairness.md, model-index.yaml and model-card.json into --output (default: REPORT_DIR/card). On the top folder of a several-model audit (it has models.csv): the comparison and one section per model in fairness.md, and per model model-index-<label>.yaml (a model card's metadata describes one model: paste each into its own model's card) and model-card-<label>.json."
        )

        @Argument(help: "A report folder written by `clip-audit run` (a model's, or the top folder of a several-model audit).")
        var reportDir: String

        @Option(name: .long, help: ArgumentHelp("Where to write the exports (default: REPORT_DIR/card).", valueName: "DIR"))
        var output: String?

        func run() throws {
            try reportingErrors {
                let url = URL(fileURLWithPath: reportDir)
                let directory = URL(fileURLWithPath: output ?? (reportDir as NSString).appendingPathComponent("card"))
                // A several-model audit's top folder: a section per model and the comparison.
                if ModelsFolder.isTopFolder(url) {
                    let models = try ModelsFolder.read(url)
                    for url in try ModelCardExport.write(models, to: directory, inside: output == nil ? url : nil) { print(url.path) }
                    if models.models.first?.data.dataset == nil {
                        printError(
                            "note: the audit file has no `dataset:` (a Hub dataset id and split); model-index-<label>.yaml names the data by the audit's name"
                        )
                    }
                    return
                }
                let folder = try ReportFolder.read(url)
                for url in try ModelCardExport.write(folder.data, to: directory, inside: output == nil ? url : nil) { print(url.path) }
                if folder.data.dataset == nil {
                    printError(
                        "note: the audit file has no `dataset:` (a Hub dataset id and split); model-index.yaml names the data by the audit's name"
                    )
                }
            }
        }
    }
}
