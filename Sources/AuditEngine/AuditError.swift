import Foundation

/// An error that stops an audit: the file concerned (when there is one) and what is wrong.
/// Its description is the one line the command prints.
public struct AuditError: Error, CustomStringConvertible, Sendable {
    public var file: String?
    public var message: String

    public init(file: String? = nil, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String {
        guard let file else { return message }
        return "\(file): \(message)"
    }
}
