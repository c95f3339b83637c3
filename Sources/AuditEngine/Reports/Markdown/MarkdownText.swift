import Foundation

/// A Markdown document being built line by line.
struct MarkdownText {
    var text = ""
    /// The charts the report embeds.
    var charts: [ChartFile] = []
    mutating func line(_ s: String) { text += s + "\n" }
    mutating func blank() { text += "\n" }
}
