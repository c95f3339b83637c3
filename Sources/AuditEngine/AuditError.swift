import CLIPEngine
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

extension AuditError {
    /// Creates `folder` and its missing parents, or fails in one line that says why: which
    /// component is in the way (a file where a folder must go), or the system's reason.
    /// Foundation's own error for these reads "(NSCocoaErrorDomain error 512.)".
    public static func createFolder(_ folder: URL, _ what: String) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            var component = folder.standardizedFileURL
            while component.path != "/" {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: component.path, isDirectory: &isDirectory) {
                    if !isDirectory.boolValue {
                        throw AuditError(file: folder.path, "cannot create the \(what): \(component.path) is a file, not a folder")
                    }
                    break
                }
                component.deleteLastPathComponent()
            }
            throw AuditError(file: folder.path, "cannot create the \(what): \(FileKind.systemReason(error))")
        }
    }
}
