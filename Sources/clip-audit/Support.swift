import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a line to standard error, with every invisible or controlling character shown as
/// `<U+XXXX>` (see ``terminalVisible(_:)``).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((terminalVisible(line) + "\n").utf8))
}

/// `text` with each control character (C0, DEL, C1: a terminal's escape sequences start with
/// them), format character (bidirectional overrides, zero-width characters) and line or
/// paragraph separator written as `<U+XXXX>`. Error lines quote paths, audit-file values and
/// manifest cells as they were given; printed raw, an ESC could restyle or move the terminal's
/// cursor and a right-to-left override could make the line read differently from what it says
/// (docs/robustness.md). Shown by code point, the user can still find the file or cell.
func terminalVisible(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isInvisible) else { return text }
    var out = ""
    out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
    for scalar in text.unicodeScalars {
        if isInvisible(scalar) {
            out += "<U+" + String(format: "%04X", scalar.value) + ">"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

private func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator: return true
    default: return false
    }
}

/// Runs a command body; any error becomes one line on stderr and exit status 1, instead of a
/// stack trace or ArgumentParser's usage text (which is for argument mistakes only).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let text = "\(error)".replacingOccurrences(of: "\n", with: " ")
        printError("clip-audit: \(text)")
        throw ExitCode(1)
    }
}

/// Whether standard error is a terminal (progress bars only then).
var stderrIsTerminal: Bool { isatty(2) != 0 }

/// `--model`, shared by the commands that load a checkpoint.
struct ModelOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A checkpoint directory or a repo id in the Hugging Face cache (default: $CLIP_AUDIT_MODEL, else openai/clip-vit-base-patch16).",
            valueName: "M"))
    var model: String?
}

/// `--threads` and `--batch`, shared by the commands that run the encoders.
struct PerformanceOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Threads for encoding (default: the number of cores).")
    var threads: Int?

    @Option(name: .long, parsing: .unconditional, help: "Images per encoder batch.")
    var batch: Int = 16

    func validate() throws {
        try Self.check(threads: threads, batch: batch)
    }

    /// The bounds of `--threads` and `--batch`: each thread and each image of a batch gets its
    /// own work space, so a mistyped 1000000 would ask for hundreds of GB and abort; beyond these
    /// bounds nothing runs faster (the encoder's throughput is flat from batch ~8 on).
    static let maxThreads = 256, maxBatch = 1024

    static func check(threads: Int?, batch: Int) throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let threads, threads > maxThreads { throw ValidationError("--threads must be at most \(maxThreads)") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if batch > maxBatch { throw ValidationError("--batch must be at most \(maxBatch)") }
    }

    var resolvedThreads: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
}
