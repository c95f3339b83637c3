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
        if let message = unknownCommandMessage(CommandLine.arguments.dropFirst().first) {
            printError("clip-audit: \(message) (see clip-audit --help)")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot(splittingEmptyValues(Array(CommandLine.arguments.dropFirst())))
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
                let help =
                    CommandLine.arguments.dropFirst().first { names.contains($0) }.map { "clip-audit \($0) --help" } ?? "clip-audit --help"
                let line = text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text
                printError("clip-audit: \(line) (see \(help))")
            }
            Foundation.exit(code.rawValue)
        }
    }

    /// `--text=` (an empty value after `=`) becomes `--text ""`: ArgumentParser refuses the
    /// first as "Missing value" while it takes the second, and both mean the empty string.
    /// Arguments after `--` are left alone.
    static func splittingEmptyValues(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var literal = false
        for argument in arguments {
            if !literal, argument == "--" { literal = true }
            if !literal, argument.hasPrefix("--"), argument.count > 3, argument.hasSuffix("="),
                argument.dropLast().allSatisfy({ $0 != "=" })
            {
                out += [String(argument.dropLast()), ""]
            } else {
                out.append(argument)
            }
        }
        return out
    }

    /// The one line for a first argument that is no subcommand (`clip-audit clasify x`), with
    /// the nearest command name; nil when `first` is a command, an option or absent.
    /// ArgumentParser alone says "2 unexpected arguments", which hides the typo.
    static func unknownCommandMessage(_ first: String?) -> String? {
        guard let first, !first.isEmpty, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(first) else { return nil }
        let distances = names.map { (name: $0, distance: editDistance($0, first.lowercased())) }
        if let best = distances.min(by: { $0.distance < $1.distance }), best.distance <= max(1, best.name.count / 3) {
            return "unknown command '\(first)'; did you mean '\(best.name)'?"
        }
        if let prefixed = names.first(where: { $0.hasPrefix(first.lowercased()) }) {
            return "unknown command '\(first)'; did you mean '\(prefixed)'?"
        }
        return "unknown command '\(first)'; the commands are " + names.dropLast().joined(separator: ", ")
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions, transpositions.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
