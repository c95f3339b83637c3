import ArgumentParser
import CLIPEngine

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
}
