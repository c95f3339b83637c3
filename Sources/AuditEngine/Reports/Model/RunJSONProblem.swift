import Foundation

/// A problem found while decoding run.json, worded for the reader; the caller names the file.
struct RunJSONProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
