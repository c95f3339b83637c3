import Foundation

/// An error loading the CLIP tokenizer's files or configuring it.
///
/// `description` is one line naming the file and the problem, suitable for printing as is.
public struct TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem occurred.
    public enum Code: String, Sendable, Equatable {
        /// The file does not exist or could not be read.
        case unreadableFile
        /// `vocab.json` is not a JSON object of token → integer id.
        case malformedVocabulary
        /// A line of `merges.txt` is not two space-separated symbols, or names unknown tokens.
        case malformedMerges
        /// A token the tokenizer needs (a special token or a byte symbol) is missing.
        case missingToken
        /// The context length is too small to hold the start and end tokens.
        case invalidContextLength
        /// A SentencePiece model (`spiece.model`, `tokenizer.model`) is not a well-formed
        /// `ModelProto`, or asks for something the tokenizer does not do.
        case malformedModel
    }

    /// The kind of problem.
    public var code: Code
    /// The file involved, if any.
    public var file: URL?
    /// A human-readable explanation.
    public var message: String

    /// Creates an error.
    public init(code: Code, file: URL?, message: String) {
        self.code = code
        self.file = file
        self.message = message
    }

    /// One line: `<file>: <message>` (or just the message when no file is involved).
    public var description: String {
        if let file { return "\(file.path): \(message)" }
        return message
    }
}

extension TokenizerError: LocalizedError {
    public var errorDescription: String? { description }
}
