import Foundation
import Testing

@testable import AuditEngine

#if canImport(Glibc)
    import Glibc
#endif

/// The operations under every report writer: a write or a removal below an open output folder
/// never goes through a link, even one that appears after the folder was checked (the
/// CLI tests cover the checks before a write; these cover the descriptor-relative operations
/// themselves), and the folder lock is re-entrant within a process.
@Suite("folder handles: no write or removal through a link")
struct FolderHandleTests {
    static let fm = FileManager.default

    /// A folder `out` and beside it `outside/victim.txt`, with `out/lnk` a link to `outside`.
    static func setUp() throws -> (root: URL, out: URL, victim: URL) {
        let root = fm.temporaryDirectory.appendingPathComponent("clip-audit-handle-\(UUID().uuidString)")
        let out = root.appendingPathComponent("out"), outside = root.appendingPathComponent("outside")
        try fm.createDirectory(at: out, withIntermediateDirectories: true)
        try fm.createDirectory(at: outside, withIntermediateDirectories: true)
        let victim = outside.appendingPathComponent("victim.txt")
        try "precious".write(to: victim, atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(at: out.appendingPathComponent("lnk"), withDestinationURL: outside)
        return (root, out, victim)
    }

    @Test("removeFile and write below a link fail naming the link; the file behind it stays")
    func throughALinkedFolder() throws {
        let (root, out, victim) = try Self.setUp()
        defer { try? Self.fm.removeItem(at: root) }
        let handle = try FolderHandle(url: out, what: "report folder")
        #expect(try handle.entry("lnk") == .link)
        for attempt in [{ _ = try handle.removeFile("lnk/victim.txt") }, { try handle.write("x", to: "lnk/victim.txt") }] {
            do {
                try attempt()
                Issue.record("went through the link")
            } catch {
                #expect("\(error)".contains(out.appendingPathComponent("lnk").path) && "\(error)".contains("symbolic link"), "\(error)")
            }
        }
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
        #expect(try Self.fm.contentsOfDirectory(atPath: victim.deletingLastPathComponent().path) == ["victim.txt"])
    }

    @Test("a link at a file's own name is neither replaced nor written through, nor removed as a file")
    func linkAtTheName() throws {
        let (root, out, victim) = try Self.setUp()
        defer { try? Self.fm.removeItem(at: root) }
        try Self.fm.createSymbolicLink(at: out.appendingPathComponent("report.md"), withDestinationURL: victim)
        let handle = try FolderHandle(url: out, what: "report folder")
        #expect(throws: (any Error).self) { try handle.write("new", to: "report.md") }
        #expect(try handle.removeFile("report.md") == false)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
        #expect(try Self.fm.destinationOfSymbolicLink(atPath: out.appendingPathComponent("report.md").path) == victim.path)
    }

    @Test("the lock is re-entrant in one process, and its file goes with the last holder")
    func reentrantLock() throws {
        let (root, out, _) = try Self.setUp()
        defer { try? Self.fm.removeItem(at: root) }
        let lockFile = out.appendingPathComponent(OutputLock.fileName).path
        do {
            let first = try OutputLock(url: out)
            do {
                let second = try OutputLock(url: out)
                withExtendedLifetime(second) {}
            }
            #expect(Self.fm.fileExists(atPath: lockFile), "the first holder still holds it")
            // Another open file description is another writer: flock refuses it.
            let other = open(lockFile, O_RDWR)
            defer { close(other) }
            #expect(flock(other, LOCK_EX | LOCK_NB) != 0)
            withExtendedLifetime(first) {}
        }
        #expect(!Self.fm.fileExists(atPath: lockFile))
    }
}
