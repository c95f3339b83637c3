import Foundation
import Testing

/// The package is built and tested on Linux only: Package.swift claims no Apple platform, and
/// every Linux-only spelling in the sources sits inside an `#if os(Linux)` branch, so that a
/// macOS port starts from a build.
@Suite("platform declarations")
struct PlatformTests {
    /// Spellings that compile on Glibc only (Darwin: st_mtimespec, Darwin.write, RUSAGE_SELF as
    /// an Int32, SOCK_STREAM as an Int32, SO_NOSIGPIPE).
    static let linuxOnly = ["st_mtim.", "Glibc.", "RUSAGE_SELF.rawValue", "SOCK_STREAM.rawValue", "MSG_NOSIGNAL"]

    /// Lines (file:line) using a Linux-only spelling outside an `#if os(Linux)` branch.
    static func unguardedUses(in root: URL) throws -> [String] {
        var found: [String] = []
        let files =
            FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" && $0.lastPathComponent != "PlatformTests.swift" } ?? []
        for file in files.sorted(by: { $0.path < $1.path }) {
            let text = try String(contentsOf: file, encoding: .utf8)
            // The conditions of the open #if blocks: true while inside an os(Linux) branch.
            var stack: [Bool] = []
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("#if ") {
                    stack.append(trimmed.contains("os(Linux)") && !trimmed.contains("!os(Linux)"))
                } else if trimmed.hasPrefix("#elseif ") || trimmed == "#else" {
                    if !stack.isEmpty { stack[stack.count - 1] = trimmed.contains("os(Linux)") }
                } else if trimmed.hasPrefix("#endif") {
                    _ = stack.popLast()
                } else if !stack.contains(true), !trimmed.hasPrefix("//"), !trimmed.hasPrefix("///"),
                    let token = linuxOnly.first(where: { line.contains($0) })
                {
                    found.append("\(file.lastPathComponent):\(number + 1): \(token)")
                }
            }
        }
        return found
    }

    @Test func linuxOnlyCallsAreBehindOSLinux() throws {
        let root = CLI.packageRoot
        var found = try Self.unguardedUses(in: root.appendingPathComponent("Sources"))
        found += try Self.unguardedUses(in: root.appendingPathComponent("Tests"))
        #expect(found.isEmpty, "Linux-only spellings outside #if os(Linux): \(found)")
    }

    @Test func packageClaimsNoUntestedPlatform() throws {
        let manifest = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let code = manifest.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
        #expect(!code.contains { $0.contains("platforms:") }, "Package.swift declares an Apple platform nothing builds or tests on")
    }
}
