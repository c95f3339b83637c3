import ArgumentParser
import AuditEngine
import Foundation

extension ClipAudit {
    /// `clip-audit validate AUDIT.yaml`: checks the audit file and its manifest without the model.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an audit file and its manifest (columns, label values, missing images) without loading the model.")

        @Argument(help: "The audit file (YAML).")
        var auditFile: String

        func run() throws {
            try reportingErrors {
                let config = try AuditConfig.load(contentsOf: URL(fileURLWithPath: auditFile))
                let report = try AuditValidator.validate(config)
                for line in report.lines { print(line) }
                guard report.isValid else {
                    for error in report.errors { printError("clip-audit: \(error)") }
                    throw ExitCode(1)
                }
            }
        }
    }
}
