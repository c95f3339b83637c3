import Foundation

/// Helpers shared by the harnesses.
public enum FuzzSupport {
    /// A per-process scratch file for parsers that read from a path.
    public static let scratch: URL = {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("clip-audit-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes the input to a scratch file named `name` and returns its URL.
    public static func file(_ name: String, _ data: UnsafeRawBufferPointer) -> URL {
        let url = scratch.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(data))
        return url
    }

    /// The package root (Fixtures/ holds the tokenizer files), from this source file's path.
    public static let packageRoot: URL = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }()
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

nonisolated(unsafe) private var testOneInput: (UnsafeRawBufferPointer) -> Void = { _ in }

/// Runs libFuzzer's driver (its command-line flags, corpus folders, crash files) over `body`.
public func runFuzzer(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    testOneInput = body
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        testOneInput(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
    exit(status)
}

/// libFuzzer's runtime (linked whole) refers to this symbol; it forwards to the harness's test.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    testOneInput(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
