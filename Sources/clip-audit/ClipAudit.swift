import ArgumentParser
import CLIPEngine
import Foundation

/// The root command: it only dispatches to the subcommands, each in its own file.
@main
struct ClipAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clip-audit",
        abstract: "Audit the CLIP model for bias over a labelled face manifest.",
        discussion: """
            Runs CLIP (openai/clip-vit-base-patch16 or any Hugging Face CLIP checkpoint) natively, \
            zero-shot, with the class designs of an audit file, and reports how its predictions \
            differ by race, gender, age and their intersections.
            """,
        version: CLIPEngineInfo.version,
        subcommands: [Run.self, Validate.self, Classify.self, Embed.self, Model.self, Bench.self, Card.self, Diff.self, Cache.self]
    )

    /// ArgumentParser's own `main`, except that a usage error is one line (`--batch must be at
    /// least 1 (see clip-audit run --help)`) instead of the error, the option's help and the
    /// usage on three or four lines: every bad input gets one line. Help and version print as
    /// usual; errors the commands reported themselves (an `ExitCode`) only set the status.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = self.message(for: error)
            guard code != .success, code != .validationFailure || !message.isEmpty else { exit(withError: error) }
            if !message.isEmpty {
                let text = message.split(separator: "\n").first.map(String.init) ?? message
                // The subcommand given, for its help.
                let names = configuration.subcommands.map { $0._commandName }
                let help = CommandLine.arguments.dropFirst().first { names.contains($0) }.map { "clip-audit \($0) --help" } ?? "clip-audit --help"
                let line = text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text
                FileHandle.standardError.write(Data("clip-audit: \(line) (see \(help))\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}
