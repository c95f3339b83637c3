import AuditEngine
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Review A3 and A8: a damaged cache, a cache merged into itself, and a cache another process
/// holds locked each give a one-line error naming the file (or are repaired), never a hang or a
/// silently wrong report.
@Suite("damaged, self-merged and locked caches", .serialized)
struct CacheInputTests {
    static let python = URL(fileURLWithPath: "/usr/bin/env")

    /// Runs a few lines of Python's sqlite3 on `cache`.
    /// `arguments` follow the cache's path in `sys.argv`.
    static func sql(_ cache: String, _ statements: String, arguments: [String] = []) throws {
        let script = "import sqlite3,struct,sys\nc=sqlite3.connect(sys.argv[1])\n\(statements)\nc.commit()\n"
        let result = try CLI.run(["python3", "-c", script, cache] + arguments, tool: python)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("a zero or NaN embedding in the cache is re-encoded; under --cached-only it is an error naming the cache")
    func damagedEmbeddings() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(6)))
        try ws.writeAudit()
        let cache = ws.path("c.sqlite")
        let first = try CLI.run(["run", ws.audit.path, "--output", ws.path("reference"), "--cache", cache, "--threads", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        try Self.sql(
            cache,
            """
            c.execute("update image_embeddings set embedding = zeroblob(length(embedding))")
            p, e = c.execute("select prompt, embedding from text_embeddings order by prompt limit 1").fetchone()
            c.execute("update text_embeddings set embedding = ? where prompt = ?", (struct.pack('<f', float('nan')) + bytes(e)[4:], p))
            """)

        let strict = try CLI.run(["run", ws.audit.path, "--output", ws.path("strict"), "--cache", cache, "--cached-only", "--threads", "1"])
        #expect(strict.status != 0)
        let message = strict.stderr.split(separator: "\n").filter { $0.hasPrefix("clip-audit:") }
        #expect(message.count == 1 && message[0].contains(cache) && message[0].contains("unusable"), "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ws.path("strict/run.json")))

        let repaired = try CLI.run(["run", ws.audit.path, "--output", ws.path("repaired"), "--cache", cache, "--threads", "1"])
        #expect(repaired.status == 0, "\(repaired.stderr)")
        #expect(repaired.stderr.contains("6 image(s) encoded, 0 from the cache"), "\(repaired.stderr)")
        try expectSameReport(URL(fileURLWithPath: ws.path("reference")), URL(fileURLWithPath: ws.path("repaired")))
        // The damaged rows were replaced: the cache alone serves the report again.
        let again = try CLI.run(["run", ws.audit.path, "--output", ws.path("again"), "--cache", cache, "--cached-only", "--threads", "1"])
        #expect(again.status == 0, "\(again.stderr)")
        try expectSameReport(URL(fileURLWithPath: ws.path("reference")), URL(fileURLWithPath: ws.path("again")))
    }

    @Test("cache merge skips damaged embeddings and says how many, on one line")
    func mergeSkipsDamagedEmbeddings() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(4)))
        try ws.writeAudit()
        let shard = ws.path("shard.sqlite")
        let run = try CLI.run(["run", ws.audit.path, "--output", ws.path("out"), "--cache", shard, "--threads", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        try Self.sql(
            shard,
            "c.execute(\"update image_embeddings set embedding = zeroblob(length(embedding)) where image_sha256 in (select image_sha256 from image_embeddings limit 3)\")"
        )
        let merge = try CLI.run(["cache", "merge", ws.path("all.sqlite"), shard])
        #expect(merge.status == 0, "\(merge.stderr)")
        let lines = merge.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("1 image") && lines[0].contains("3 unusable embedding(s) skipped"), "\(merge.stderr)")
        #expect(merge.stdout.contains("1 image"), "\(merge.stdout)")
    }

    @Test("rows keyed by the model-key text caches have always held are found by a ModelKey")
    func modelKeyTextOfExistingCaches() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        let path = ws.path("old.sqlite")
        let cache = try EmbeddingCache(url: URL(fileURLWithPath: path))
        let weights = String(repeating: "0f", count: 32), configuration = String(repeating: "e1", count: 32)
        // The bytes earlier versions wrote in the `model` column, spelled out rather than built
        // with the type under test.
        let stored = weights + ":" + configuration + ":numerics-2"
        try Self.sql(
            path,
            """
            c.execute("INSERT INTO image_embeddings VALUES ('img', ?, 'p', 3, ?)", (sys.argv[2], struct.pack('<3f', 1, 2, 3)))
            c.execute("INSERT INTO text_embeddings VALUES ('a photo.', ?, 't', 2, ?)", (sys.argv[2], struct.pack('<2f', 4, 5)))
            """, arguments: [stored])
        let key = ModelKey(weightsSHA256: weights, configurationSHA256: configuration, numericsRevision: 2)
        #expect(key.text == stored)
        #expect(try cache.imageEmbeddings(for: ["img"], model: key, preprocessing: "p") == ["img": [1, 2, 3]])
        #expect(try cache.textEmbeddings(for: ["a photo."], model: key, tokenizer: "t") == ["a photo.": [4, 5]])
        // Another revision's key does not find them.
        let other = ModelKey(weightsSHA256: weights, configurationSHA256: configuration, numericsRevision: 3)
        #expect(try cache.imageEmbeddings(for: ["img"], model: other, preprocessing: "p").isEmpty)
    }

    @Test("cache merge refuses to merge a file into itself, under any name, at once")
    func mergeIntoItself() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        let cache = try EmbeddingCache(url: URL(fileURLWithPath: ws.path("same.sqlite")))
        try cache.storeImageEmbeddings([("a", [1, 2, 3])], model: .named("m"), preprocessing: "p")
        try FileManager.default.createSymbolicLink(atPath: ws.path("link.sqlite"), withDestinationPath: ws.path("same.sqlite"))
        try FileManager.default.linkItem(atPath: ws.path("same.sqlite"), toPath: ws.path("hard.sqlite"))
        for input in ["same.sqlite", "./same.sqlite", "link.sqlite", "hard.sqlite"] {
            let started = try CLI.start(["cache", "merge", "same.sqlite", input], in: ws.url)
            let deadline = Date().addingTimeInterval(15)
            while started.0.isRunning && Date() < deadline { usleep(20_000) }
            if started.0.isRunning { kill(started.0.processIdentifier, SIGKILL) }
            let result = CLI.collect(started)
            #expect(result.status == 1, "merge same.sqlite \(input): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(
                lines.count == 1 && lines[0].contains(input.replacingOccurrences(of: "./", with: "")) && lines[0].contains("itself"),
                "merge same.sqlite \(input): \(result.stderr)")
        }
    }

    /// Starts a Python process that holds an EXCLUSIVE transaction on `cache` for `seconds`, and
    /// returns once it holds it.
    static func holdLock(_ cache: String, seconds: Double) throws -> (Process, URL, URL) {
        let script =
            "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('begin exclusive')\nprint('locked',flush=True)\ntime.sleep(float(sys.argv[2]))\nc.execute('commit')\n"
        let holder = try CLI.start(["python3", "-c", script, cache, String(seconds)], tool: python)
        let deadline = Date().addingTimeInterval(10)
        while holder.0.isRunning && Date() < deadline && !((try? String(contentsOf: holder.1, encoding: .utf8)) ?? "").contains("locked") {
            usleep(20_000)
        }
        return holder
    }

    /// A workspace of three images whose cache `locked.sqlite` a first run (report in `first`) filled.
    static func workspaceWithFilledCache() throws -> Workspace {
        let ws = try Workspace()
        try ws.writeManifest(Workspace.rows(try ws.makeImages(3)))
        try ws.writeAudit()
        let first = try CLI.run(["run", ws.audit.path, "--output", ws.path("first"), "--cache", ws.path("locked.sqlite"), "--threads", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        return ws
    }

    @Test("a run on a cache another process keeps locked says it waits, then fails naming the file")
    func lockedCache() throws {
        let ws = try Self.workspaceWithFilledCache()
        defer { ws.cleanUp() }
        let cache = ws.path("locked.sqlite")

        let holder = try Self.holdLock(cache, seconds: 30)
        defer {
            kill(holder.0.processIdentifier, SIGKILL)
            _ = CLI.collect(holder)
        }
        #expect(holder.0.isRunning, "the lock holder did not start")
        let start = Date()
        let started = try CLI.start(
            ["run", ws.audit.path, "--output", ws.path("locked"), "--cache", cache, "--threads", "1"],
            environment: ["CLIP_AUDIT_CACHE_BUSY_TIMEOUT": "3"])
        let deadline = Date().addingTimeInterval(20)
        while started.0.isRunning && Date() < deadline { usleep(20_000) }
        if started.0.isRunning { kill(started.0.processIdentifier, SIGKILL) }
        let result = CLI.collect(started)
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.status == 1, "status \(result.status) after \(elapsed) s: \(result.stderr)")
        #expect(elapsed >= 3 && elapsed < 15, "\(elapsed) s")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.contains("busy") && $0.contains(cache) && $0.contains("waiting") }.count == 1, "\(result.stderr)")
        let errors = lines.filter { $0.hasPrefix("clip-audit:") && !$0.contains("busy") }
        #expect(errors.count == 1 && errors[0].contains(cache) && errors[0].contains("locked by another process"), "\(result.stderr)")
    }

    @Test("a run on a cache locked for a moment waits for it, says so once, and succeeds")
    func brieflyLockedCache() throws {
        let ws = try Self.workspaceWithFilledCache()
        defer { ws.cleanUp() }
        let cache = ws.path("locked.sqlite")

        let holder = try Self.holdLock(cache, seconds: 8)
        let result = try CLI.run(
            ["run", ws.audit.path, "--output", ws.path("second"), "--cache", cache, "--threads", "1"],
            environment: ["CLIP_AUDIT_CACHE_BUSY_TIMEOUT": "30"])
        let held = CLI.collect(holder)
        #expect(held.status == 0, "\(held.stderr)")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "the cache is busy").count == 2, "\(result.stderr)")
        try expectSameReport(URL(fileURLWithPath: ws.path("first")), URL(fileURLWithPath: ws.path("second")))
    }
}

private extension ModelKey {
    /// A key whose weights hash is `name`, for tests that need only distinct models.
    static func named(_ name: String) -> ModelKey {
        ModelKey(weightsSHA256: name, configurationSHA256: "config")
    }
}
