import CClipSQLite
import CLIPEngine
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error of the embedding cache: the database file and what SQLite said.
public struct CacheError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String
    public var description: String { "\(file): cache: \(message)" }
}

/// A persistent store of CLIP embeddings in SQLite, so that a changed design or an interrupted
/// run encodes no image twice.
///
/// Image embeddings are keyed by the SHA-256 of the image file's bytes, the model's weights
/// fingerprint and the preprocessing settings; text embeddings by the prompt, the model's
/// fingerprint and the tokenizer's. Rows are only ever inserted whole inside transactions, and the
/// database runs in WAL mode, so a killed run leaves it intact and two runs may share one file. A
/// lock another process holds is waited for a bounded time (`CLIP_AUDIT_CACHE_BUSY_TIMEOUT`
/// seconds, default 60), said once on stderr, then an error naming the file.
public final class EmbeddingCache: @unchecked Sendable {
    /// The database file.
    public let url: URL
    private var db: OpaquePointer?
    private let lock = NSLock()
    /// Further caches (opened read-only) that lookups fall back on, in order: a final run over
    /// shard caches (`--cache merged.sqlite --cache shard-1.sqlite …`) reads from all of them and
    /// writes only to this one.
    public private(set) var fallbacks: [EmbeddingCache] = []
    /// How long an operation waits for another process's lock before failing, and the wait's state.
    private let busy: BusyWait

    /// Opens `url` (first, writable) and each of `readOnly` (read-only fallbacks for lookups).
    public convenience init(url: URL, fallbacks readOnly: [URL]) throws {
        try self.init(url: url)
        fallbacks = try readOnly.map { try EmbeddingCache(url: $0, readOnly: true) }
    }

    static let schemaVersion = 1

    /// The default location: `$XDG_CACHE_HOME/clip-audit/embeddings.sqlite`, else `~/.cache/clip-audit/…`.
    public static func defaultURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base: URL
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            base = URL(fileURLWithPath: xdg, isDirectory: true)
        } else {
            let home =
                environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
                ?? FileManager.default.homeDirectoryForCurrentUser
            base = home.appendingPathComponent(".cache", isDirectory: true)
        }
        return base.appendingPathComponent("clip-audit", isDirectory: true).appendingPathComponent("embeddings.sqlite")
    }

    /// Opens (creating if needed) the cache at `url`. `readOnly` opens an existing file without
    /// writing to it (used when merging shard caches).
    public init(url: URL, readOnly: Bool = false) throws {
        self.url = url
        busy = BusyWait(file: url.path, timeout: try Self.busyTimeout())
        if !readOnly {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(url.path, &handle, flags | SQLITE_OPEN_FULLMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw CacheError(file: url.path, message: message)
        }
        db = handle
        // Wait for another process's lock a bounded time (CLIP_AUDIT_CACHE_BUSY_TIMEOUT, default
        // 60 s), saying so once on stderr, instead of SQLite's silent busy timeout.
        sqlite3_busy_handler(handle, busyHandler, Unmanaged.passUnretained(busy).toOpaque())
        // `clip_embedding_ok(embedding, dim)`: the usability check in SQL, for `merge`.
        sqlite3_create_function_v2(
            handle, "clip_embedding_ok", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            embeddingOKFunction, nil, nil, nil)
        do {
            if !readOnly {
                // Several processes may open a new cache at once (shards, concurrent runs). SQLite
                // answers SQLITE_BUSY at once, without waiting, where waiting could deadlock (a
                // journal-mode switch, a read lock upgraded to a write lock), so the set-up runs in
                // one IMMEDIATE transaction and is retried until the other process is done.
                try retryingWhileBusy { try exec("PRAGMA journal_mode=WAL") }
                try exec("PRAGMA synchronous=NORMAL")
                try retryingWhileBusy {
                    try exec(
                        """
                        BEGIN IMMEDIATE;
                        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                        CREATE TABLE IF NOT EXISTS image_embeddings (
                            image_sha256 TEXT NOT NULL, model TEXT NOT NULL, preprocessing TEXT NOT NULL,
                            dim INTEGER NOT NULL, embedding BLOB NOT NULL,
                            PRIMARY KEY (image_sha256, model, preprocessing)) WITHOUT ROWID;
                        CREATE TABLE IF NOT EXISTS text_embeddings (
                            prompt TEXT NOT NULL, model TEXT NOT NULL, tokenizer TEXT NOT NULL,
                            dim INTEGER NOT NULL, embedding BLOB NOT NULL,
                            PRIMARY KEY (prompt, model, tokenizer)) WITHOUT ROWID;
                        CREATE TABLE IF NOT EXISTS file_fingerprints (
                            path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,
                            sha256 TEXT NOT NULL, PRIMARY KEY (path)) WITHOUT ROWID;
                        INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '\(Self.schemaVersion)');
                        COMMIT;
                        """)
                }
            }
            let version = try queryString("SELECT value FROM meta WHERE key = 'schema_version'")
            guard version == String(Self.schemaVersion) else {
                throw CacheError(file: url.path, message: "schema version \(version ?? "none"), expected \(Self.schemaVersion)")
            }
        } catch let error as CacheError {
            sqlite3_close(handle)
            db = nil
            throw error
        }
    }

    deinit { sqlite3_close(db) }

    // MARK: Usability

    /// What a lookup found: the usable embeddings, and for keys that only had unusable rows (see
    /// `isUsable`), the cache file holding such a row. Both treat the key as a miss.
    public struct Lookup: Sendable {
        public var found: [String: [Float]] = [:]
        public var unusable: [String: String] = [:]
    }

    /// Whether a stored row (its blob and dimension) can be used: the right length, and a usable
    /// embedding by the same definition the model's own output is checked with.
    static func isUsable(blob: UnsafeRawPointer?, bytes: Int, dim: Int) -> Bool {
        guard dim > 0, bytes == dim * MemoryLayout<Float>.size, let blob else { return false }
        return CLIPModel.isUsableEmbedding(blob, count: dim)
    }

    // MARK: Images

    /// Cached image embeddings for `keys` (image SHA-256s); missing keys, and keys whose rows are
    /// unusable, are absent from the result.
    public func imageEmbeddings(for keys: [String], model: ModelKey, preprocessing: String) throws -> [String: [Float]] {
        try imageEmbeddingLookup(for: keys, model: model, preprocessing: preprocessing).found
    }

    /// Cached image embeddings for `keys`, and which keys had only unusable rows (and where).
    public func imageEmbeddingLookup(for keys: [String], model: ModelKey, preprocessing: String) throws -> Lookup {
        try lookupWithFallbacks(
            sql: "SELECT embedding, dim FROM image_embeddings WHERE image_sha256 = ?1 AND model = ?2 AND preprocessing = ?3",
            keys: keys, second: model.text, third: preprocessing)
    }

    /// Stores image embeddings (key: image SHA-256) in one transaction.
    public func storeImageEmbeddings(_ entries: [(key: String, embedding: [Float])], model: ModelKey, preprocessing: String) throws {
        try store(
            sql: "INSERT OR REPLACE INTO image_embeddings(image_sha256, model, preprocessing, dim, embedding) VALUES (?1, ?2, ?3, ?4, ?5)",
            entries: entries, second: model.text, third: preprocessing)
    }

    // MARK: Texts

    /// Cached text embeddings for `prompts`; missing prompts, and prompts whose rows are unusable,
    /// are absent from the result.
    public func textEmbeddings(for prompts: [String], model: ModelKey, tokenizer: String) throws -> [String: [Float]] {
        try textEmbeddingLookup(for: prompts, model: model, tokenizer: tokenizer).found
    }

    /// Cached text embeddings for `prompts`, and which prompts had only unusable rows (and where).
    public func textEmbeddingLookup(for prompts: [String], model: ModelKey, tokenizer: String) throws -> Lookup {
        try lookupWithFallbacks(
            sql: "SELECT embedding, dim FROM text_embeddings WHERE prompt = ?1 AND model = ?2 AND tokenizer = ?3",
            keys: prompts, second: model.text, third: tokenizer)
    }

    /// Stores text embeddings in one transaction.
    public func storeTextEmbeddings(_ entries: [(key: String, embedding: [Float])], model: ModelKey, tokenizer: String) throws {
        try store(
            sql: "INSERT OR REPLACE INTO text_embeddings(prompt, model, tokenizer, dim, embedding) VALUES (?1, ?2, ?3, ?4, ?5)",
            entries: entries, second: model.text, third: tokenizer)
    }

    /// Number of image and text embeddings stored.
    public func counts() throws -> (images: Int, texts: Int) {
        (
            Int(try queryString("SELECT COUNT(*) FROM image_embeddings") ?? "0") ?? 0,
            Int(try queryString("SELECT COUNT(*) FROM text_embeddings") ?? "0") ?? 0
        )
    }

    /// SQLite's `PRAGMA integrity_check`: `ok`, or what is wrong with the file.
    public func integrityCheck() throws -> String {
        lock.lock(); defer { lock.unlock() }
        return try queryString("PRAGMA integrity_check") ?? "no answer"
    }

    // MARK: Merging

    /// What `merge` did: rows added (or that replaced an unusable row), and unusable rows of the
    /// source that were left out.
    public struct MergeResult: Sendable, Equatable {
        public var images: Int
        public var texts: Int
        public var skipped: Int
    }

    /// Copies every usable embedding of `other` (a cache file, e.g. a shard's) into this cache in
    /// one transaction; usable rows this cache already has are kept, unusable ones replaced.
    /// Unusable rows of `other` (zero or non-finite vectors, wrong lengths) are skipped and counted:
    /// like a run, which re-encodes them, a merge treats them as absent.
    @discardableResult
    public func merge(from other: URL) throws -> MergeResult {
        // The same file under another name (./x, a symlink, a hard link) would wait on its own lock.
        var mine = stat(), theirs = stat()
        if stat(url.path, &mine) == 0, stat(other.path, &theirs) == 0, mine.st_dev == theirs.st_dev, mine.st_ino == theirs.st_ino {
            throw CacheError(
                file: other.path, message: "is the same file as the output cache \(url.path); cannot merge a cache file into itself")
        }
        // Opening it first checks that it is a cache of this schema.
        _ = try EmbeddingCache(url: other, readOnly: true)
        lock.lock(); defer { lock.unlock() }
        let attach = try prepare("ATTACH DATABASE ?1 AS source")
        sqlite3_bind_text(attach, 1, other.path, -1, clip_sqlite_transient())
        let rc = sqlite3_step(attach)
        sqlite3_finalize(attach)
        guard rc == SQLITE_DONE else { throw fail("attach \(other.path)") }
        defer { try? exec("DETACH DATABASE source") }
        try exec("BEGIN IMMEDIATE")
        do {
            var skipped = 0
            for table in ["image_embeddings", "text_embeddings"] {
                skipped +=
                    Int(try queryString("SELECT COUNT(*) FROM source.\(table) WHERE NOT clip_embedding_ok(embedding, dim)") ?? "0") ?? 0
            }
            let images = try insertUsable(table: "image_embeddings", key: ["image_sha256", "model", "preprocessing"])
            let texts = try insertUsable(table: "text_embeddings", key: ["prompt", "model", "tokenizer"])
            try exec("COMMIT")
            return MergeResult(images: images, texts: texts, skipped: skipped)
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }

    /// Copies `source.table`'s usable rows into `main.table` where main has no usable row of that
    /// key; returns the rows written.
    private func insertUsable(table: String, key: [String]) throws -> Int {
        let sameKey = key.map { "m.\($0) = s.\($0)" }.joined(separator: " AND ")
        try exec(
            """
            INSERT OR REPLACE INTO main.\(table) SELECT s.* FROM source.\(table) AS s
            WHERE clip_embedding_ok(s.embedding, s.dim)
              AND NOT EXISTS (SELECT 1 FROM main.\(table) AS m WHERE \(sameKey) AND clip_embedding_ok(m.embedding, m.dim))
            """)
        return Int(sqlite3_changes(db))
    }

    private func countsUnlocked() throws -> (images: Int, texts: Int) {
        (
            Int(try queryString("SELECT COUNT(*) FROM image_embeddings") ?? "0") ?? 0,
            Int(try queryString("SELECT COUNT(*) FROM text_embeddings") ?? "0") ?? 0
        )
    }

    // MARK: File fingerprints

    /// The SHA-256 of a large file (the weights), remembered by path, size, mtime and inode so that
    /// an unchanged 600 MB checkpoint is hashed once, not on every run.
    public func fingerprint(ofFile file: URL, compute: (URL) throws -> String) throws -> String {
        var st = stat()
        guard stat(file.path, &st) == 0 else { return try compute(file) }
        #if os(Linux)
            let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #else
            let mtime = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        #endif
        let path = file.resolvingSymlinksInPath().path
        lock.lock(); defer { lock.unlock() }
        if let stmt = try? prepare("SELECT sha256 FROM file_fingerprints WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3 AND inode = ?4") {
            defer { sqlite3_finalize(stmt) }
            sqlite3_bind_text(stmt, 1, path, -1, clip_sqlite_transient())
            sqlite3_bind_int64(stmt, 2, Int64(st.st_size))
            sqlite3_bind_int64(stmt, 3, mtime)
            sqlite3_bind_int64(stmt, 4, Int64(st.st_ino))
            if sqlite3_step(stmt) == SQLITE_ROW, let text = sqlite3_column_text(stmt, 0) {
                return String(cString: text)
            }
        }
        let digest = try compute(file)
        if let stmt = try? prepare(
            "INSERT OR REPLACE INTO file_fingerprints(path, size, mtime_ns, inode, sha256) VALUES (?1, ?2, ?3, ?4, ?5)")
        {
            defer { sqlite3_finalize(stmt) }
            sqlite3_bind_text(stmt, 1, path, -1, clip_sqlite_transient())
            sqlite3_bind_int64(stmt, 2, Int64(st.st_size))
            sqlite3_bind_int64(stmt, 3, mtime)
            sqlite3_bind_int64(stmt, 4, Int64(st.st_ino))
            sqlite3_bind_text(stmt, 5, digest, -1, clip_sqlite_transient())
            _ = sqlite3_step(stmt) // A read-only cache simply does not remember it.
        }
        return digest
    }

    // MARK: SQLite plumbing

    private func fail(_ what: String) -> CacheError {
        if lastErrorIsBusy { return busyError() }
        return CacheError(file: url.path, message: "\(what): \(String(cString: sqlite3_errmsg(db)))")
    }

    /// Runs `body` again while SQLite reports the database busy or locked (SQLite answers BUSY at
    /// once where waiting could deadlock), rolling back any transaction the failed attempt left
    /// open; all attempts together wait no longer than the busy timeout.
    private func retryingWhileBusy(_ body: () throws -> Void) throws {
        busy.beginOperation()
        defer { busy.endOperation() }
        while true {
            do {
                return try body()
            } catch let error as CacheError {
                let code = sqlite3_errcode(db) & 0xFF
                guard code == SQLITE_BUSY || code == SQLITE_LOCKED else { throw error }
                if sqlite3_get_autocommit(db) == 0 { _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
                guard busy.keepWaiting() else { throw busyError() }
                usleep(100_000)
            }
        }
    }

    /// The one-line error for a cache another process kept locked past the busy timeout.
    private func busyError() -> CacheError {
        CacheError(
            file: url.path,
            message:
                "the cache is locked by another process; gave up after waiting \(BusyWait.format(busy.timeout)) s (CLIP_AUDIT_CACHE_BUSY_TIMEOUT sets the wait)"
        )
    }

    /// Whether SQLite's last error on this connection is a lock held by another connection.
    private var lastErrorIsBusy: Bool {
        let code = sqlite3_errcode(db) & 0xFF
        return code == SQLITE_BUSY || code == SQLITE_LOCKED
    }

    private func exec(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &error) != SQLITE_OK {
            if lastErrorIsBusy {
                sqlite3_free(error)
                throw busyError()
            }
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw CacheError(file: url.path, message: message)
        }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else { throw fail("prepare") }
        return stmt
    }

    private func queryString(_ sql: String) throws -> String? {
        let stmt = try prepare(sql)
        defer { sqlite3_finalize(stmt) }
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW, let text = sqlite3_column_text(stmt, 0) { return String(cString: text) }
        if rc == SQLITE_DONE || rc == SQLITE_ROW { return nil }
        throw fail("query")
    }

    /// This cache's rows for `keys`, then the read-only fallbacks' (in order) for what is still missing.
    private func lookupWithFallbacks(sql: String, keys: [String], second: String, third: String) throws -> Lookup {
        var result = try lookup(sql: sql, keys: keys, second: second, third: third)
        let wanted = Set(keys).count
        for fallback in fallbacks where result.found.count < wanted {
            let missing = keys.filter { result.found[$0] == nil }
            let more = try fallback.lookupWithFallbacks(sql: sql, keys: missing, second: second, third: third)
            result.found.merge(more.found) { a, _ in a }
            result.unusable.merge(more.unusable) { a, _ in a }
        }
        for key in result.found.keys { result.unusable[key] = nil }
        return result
    }

    private func lookup(sql: String, keys: [String], second: String, third: String) throws -> Lookup {
        lock.lock(); defer { lock.unlock() }
        let stmt = try prepare(sql)
        defer { sqlite3_finalize(stmt) }
        var out = Lookup()
        for key in keys where out.found[key] == nil && out.unusable[key] == nil {
            sqlite3_reset(stmt)
            sqlite3_bind_text(stmt, 1, key, -1, clip_sqlite_transient())
            sqlite3_bind_text(stmt, 2, second, -1, clip_sqlite_transient())
            sqlite3_bind_text(stmt, 3, third, -1, clip_sqlite_transient())
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_ROW {
                let dim = Int(sqlite3_column_int64(stmt, 1))
                let bytes = Int(sqlite3_column_bytes(stmt, 0))
                let blob = sqlite3_column_blob(stmt, 0)
                // A row whose blob does not match its dimension, or whose vector is zero or holds a
                // NaN or an infinity, is treated as absent (re-encoded, and the row replaced).
                guard Self.isUsable(blob: blob, bytes: bytes, dim: dim), let blob else {
                    out.unusable[key] = url.path
                    continue
                }
                out.found[key] = [Float](unsafeUninitializedCapacity: dim) { buffer, count in
                    memcpy(buffer.baseAddress!, blob, bytes)
                    count = dim
                }
            } else if rc != SQLITE_DONE {
                throw fail("lookup")
            }
        }
        return out
    }

    private func store(sql: String, entries: [(key: String, embedding: [Float])], second: String, third: String) throws {
        guard !entries.isEmpty else { return }
        lock.lock(); defer { lock.unlock() }
        try exec("BEGIN IMMEDIATE")
        do {
            let stmt = try prepare(sql)
            defer { sqlite3_finalize(stmt) }
            for entry in entries {
                sqlite3_reset(stmt)
                sqlite3_bind_text(stmt, 1, entry.key, -1, clip_sqlite_transient())
                sqlite3_bind_text(stmt, 2, second, -1, clip_sqlite_transient())
                sqlite3_bind_text(stmt, 3, third, -1, clip_sqlite_transient())
                sqlite3_bind_int64(stmt, 4, Int64(entry.embedding.count))
                entry.embedding.withUnsafeBytes { raw in
                    _ = sqlite3_bind_blob(stmt, 5, raw.baseAddress, Int32(raw.count), clip_sqlite_transient())
                }
                guard sqlite3_step(stmt) == SQLITE_DONE else { throw fail("insert") }
            }
            try exec("COMMIT")
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }
}

extension EmbeddingCache {
    /// How long to wait for a cache another process has locked: `$CLIP_AUDIT_CACHE_BUSY_TIMEOUT`
    /// seconds, default 60.
    static func busyTimeout(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double {
        guard let text = environment["CLIP_AUDIT_CACHE_BUSY_TIMEOUT"], !text.isEmpty else { return 60 }
        guard let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0 else {
            throw CacheError(file: "CLIP_AUDIT_CACHE_BUSY_TIMEOUT", message: "expected a number of seconds, got '\(text)'")
        }
        return seconds
    }
}

/// The state of waiting for another process's lock on one cache connection: when the wait began,
/// and whether stderr has been told. Touched only under the connection's mutex.
final class BusyWait: @unchecked Sendable {
    let file: String
    let timeout: Double
    private var started: Double?
    private var inOperation = false
    private var told = false

    init(file: String, timeout: Double) {
        self.file = file
        self.timeout = timeout
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && seconds < 1e15 ? String(Int(seconds)) : String(seconds)
    }

    /// An operation made of several attempts (each of which may wait): one deadline for all.
    func beginOperation() { inOperation = true; started = nil }
    func endOperation() { inOperation = false; started = nil }

    /// SQLite's busy handler: `count` is how often it was called for this lock.
    func handle(count: Int32) -> Bool {
        if count == 0 && !inOperation { started = nil }
        guard keepWaiting() else { return false }
        usleep(20_000)
        return true
    }

    /// Whether to wait on (the timeout has not passed since the wait began); after a moment of
    /// waiting, says once on stderr why nothing happens.
    func keepWaiting() -> Bool {
        let now = ProcessInfo.processInfo.systemUptime
        if started == nil { started = now }
        let waited = now - started!
        guard waited < timeout else { return false }
        if !told && waited >= min(1, timeout / 2) {
            told = true
            FileHandle.standardError.write(
                Data("clip-audit: \(file): the cache is busy (locked by another process); waiting up to \(Self.format(timeout)) s\n".utf8))
        }
        return true
    }
}

private func busyHandler(_ context: UnsafeMutableRawPointer?, _ count: Int32) -> Int32 {
    guard let context else { return 0 }
    return Unmanaged<BusyWait>.fromOpaque(context).takeUnretainedValue().handle(count: count) ? 1 : 0
}

private func embeddingOKFunction(_ context: OpaquePointer?, _ argc: Int32, _ argv: UnsafeMutablePointer<OpaquePointer?>?) {
    guard argc == 2, let argv else { sqlite3_result_int(context, 0); return }
    let blob = sqlite3_value_blob(argv[0])
    let bytes = Int(sqlite3_value_bytes(argv[0]))
    let dim = Int(sqlite3_value_int64(argv[1]))
    sqlite3_result_int(context, EmbeddingCache.isUsable(blob: blob, bytes: bytes, dim: dim) ? 1 : 0)
}
