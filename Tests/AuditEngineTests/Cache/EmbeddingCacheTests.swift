import Foundation
import Testing

@testable import AuditEngine

@Suite struct EmbeddingCacheTests {
    @Test func storesAndFindsByContentModelAndPreprocessing() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = dir.url.appendingPathComponent("nested/cache.sqlite")
        let cache = try EmbeddingCache(url: url)
        try cache.storeImageEmbeddings([("aaa", [1, 2, 3]), ("bbb", [4, 5, 6])], model: .named("m1"), preprocessing: "p1")
        try cache.storeTextEmbeddings([("a photo of a cat.", [0.5, -0.5])], model: .named("m1"), tokenizer: "t1")
        #expect(
            try cache.imageEmbeddings(for: ["aaa", "bbb", "ccc"], model: .named("m1"), preprocessing: "p1") == [
                "aaa": [1, 2, 3], "bbb": [4, 5, 6]
            ])
        // Another model or other preprocessing is another key: nothing found.
        #expect(try cache.imageEmbeddings(for: ["aaa"], model: .named("m2"), preprocessing: "p1").isEmpty)
        #expect(try cache.imageEmbeddings(for: ["aaa"], model: .named("m1"), preprocessing: "p2").isEmpty)
        #expect(try cache.textEmbeddings(for: ["a photo of a cat."], model: .named("m1"), tokenizer: "t2").isEmpty)
        #expect(
            try cache.textEmbeddings(for: ["a photo of a cat."], model: .named("m1"), tokenizer: "t1") == ["a photo of a cat.": [0.5, -0.5]]
        )
        // A second connection (another run) sees the same rows.
        let other = try EmbeddingCache(url: url)
        #expect(try other.counts() == (images: 2, texts: 1))
        let readOnly = try EmbeddingCache(url: url, readOnly: true)
        #expect(try readOnly.imageEmbeddings(for: ["bbb"], model: .named("m1"), preprocessing: "p1")["bbb"] == [4, 5, 6])
    }

    @Test func fingerprintIsComputedOnceUntilTheFileChanges() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let cache = try EmbeddingCache(url: dir.url.appendingPathComponent("c.sqlite"))
        let file = try dir.write("weights.bin", "abc")
        var calls = 0
        let compute: (URL) throws -> String = { _ in
            calls += 1; return "digest-\(calls)"
        }
        #expect(try cache.fingerprint(ofFile: file, compute: compute) == "digest-1")
        #expect(try cache.fingerprint(ofFile: file, compute: compute) == "digest-1")
        #expect(calls == 1)
        try "abcd".write(to: file, atomically: false, encoding: .utf8) // new size: computed again
        #expect(try cache.fingerprint(ofFile: file, compute: compute) == "digest-2")
    }

    @Test func aFileThatIsNotACacheGivesAnErrorNamingIt() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let bogus = try dir.write("notes.sqlite", String(repeating: "not a database ", count: 100))
        #expect {
            _ = try EmbeddingCache(url: bogus)
        } throws: { error in
            "\(error)".contains("notes.sqlite") && !"\(error)".contains("\n")
        }
    }

    @Test func defaultLocationFollowsXDG() {
        #expect(
            EmbeddingCache.defaultURL(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]).path
                == "/x/cache/clip-audit/embeddings.sqlite")
        #expect(EmbeddingCache.defaultURL(environment: ["HOME": "/home/u"]).path == "/home/u/.cache/clip-audit/embeddings.sqlite")
    }

    // Review A3: a damaged row (a zero vector, a NaN, an infinity, a denormal-tiny vector) is a
    // miss, not an embedding that scores every class alike.
    static let unusable: [(name: String, vector: [Float])] = [
        ("zero", [0, 0, 0]), ("nan", [1, .nan, 2]), ("inf", [1, 2, .infinity]), ("-inf", [-.infinity, 1, 1]),
        ("denormal", [Float.leastNonzeroMagnitude, Float.leastNonzeroMagnitude, 0])
    ]

    @Test func anUnusableEmbeddingIsAMissAndIsReplacedWhenStoredAgain() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = dir.url.appendingPathComponent("c.sqlite")
        let cache = try EmbeddingCache(url: url)
        let keys = Self.unusable.map(\.name)
        try cache.storeImageEmbeddings(
            Self.unusable.map { ($0.name, $0.vector) } + [("good", [0.25, -1, 3])], model: .named("m"), preprocessing: "p")
        try cache.storeTextEmbeddings(Self.unusable.map { ($0.name, $0.vector) }, model: .named("m"), tokenizer: "t")
        #expect(try cache.imageEmbeddings(for: keys + ["good"], model: .named("m"), preprocessing: "p") == ["good": [0.25, -1, 3]])
        #expect(try cache.textEmbeddings(for: keys, model: .named("m"), tokenizer: "t").isEmpty)
        // The lookup says which keys had a damaged row, and in which file.
        let lookup = try cache.imageEmbeddingLookup(for: keys + ["good", "absent"], model: .named("m"), preprocessing: "p")
        #expect(lookup.unusable == Dictionary(uniqueKeysWithValues: keys.map { ($0, url.path) }))
        #expect(try cache.textEmbeddingLookup(for: keys, model: .named("m"), tokenizer: "t").unusable.count == keys.count)
        // A read-only fallback's damaged row is a miss too, and another cache's good row wins.
        let primary = try EmbeddingCache(url: dir.url.appendingPathComponent("primary.sqlite"), fallbacks: [url])
        #expect(try primary.imageEmbeddingLookup(for: ["zero"], model: .named("m"), preprocessing: "p").unusable == ["zero": url.path])
        try primary.storeImageEmbeddings([("zero", [1, 1, 1])], model: .named("m"), preprocessing: "p")
        let both = try primary.imageEmbeddingLookup(for: ["zero"], model: .named("m"), preprocessing: "p")
        #expect(both.found == ["zero": [1, 1, 1]] && both.unusable.isEmpty)
        // Encoding again replaces the damaged row.
        try cache.storeImageEmbeddings(keys.map { ($0, [1, 2, 3]) }, model: .named("m"), preprocessing: "p")
        #expect(try cache.imageEmbeddings(for: keys, model: .named("m"), preprocessing: "p").count == keys.count)
    }

    @Test func mergeSkipsUnusableEmbeddingsCountsThemAndReplacesDamagedRows() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let shard = try EmbeddingCache(url: dir.url.appendingPathComponent("shard.sqlite"))
        try shard.storeImageEmbeddings(
            Self.unusable.map { ($0.name, $0.vector) } + [("good", [1, 2, 3]), ("fixed", [4, 5, 6])],
            model: .named("m"), preprocessing: "p")
        try shard.storeTextEmbeddings([("ok", [1, 0]), ("bad", [.nan, 0])], model: .named("m"), tokenizer: "t")
        let target = try EmbeddingCache(url: dir.url.appendingPathComponent("all.sqlite"))
        // The target has a damaged row the shard has a good one for, and a good one of its own.
        try target.storeImageEmbeddings([("fixed", [0, 0, 0]), ("good", [7, 8, 9])], model: .named("m"), preprocessing: "p")
        let result = try target.merge(from: shard.url)
        #expect(result == EmbeddingCache.MergeResult(images: 1, texts: 1, skipped: Self.unusable.count + 1))
        #expect(
            try target.imageEmbeddings(for: ["good", "fixed"] + Self.unusable.map(\.name), model: .named("m"), preprocessing: "p")
                == ["good": [7, 8, 9], "fixed": [4, 5, 6]])
        #expect(try target.counts() == (images: 2, texts: 1))
        #expect(try target.integrityCheck() == "ok")
    }

    // Review A8: merging a file into itself waited forever on its own lock.
    @Test(.timeLimit(.minutes(1)))
    func mergingACacheIntoItselfIsRefusedWhateverItsName() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = dir.url.appendingPathComponent("same.sqlite")
        let cache = try EmbeddingCache(url: url)
        try cache.storeImageEmbeddings([("a", [1, 2, 3])], model: .named("m"), preprocessing: "p")
        try FileManager.default.createSymbolicLink(at: dir.url.appendingPathComponent("link.sqlite"), withDestinationURL: url)
        try FileManager.default.linkItem(at: url, to: dir.url.appendingPathComponent("hard.sqlite"))
        let names = [
            url, dir.url.appendingPathComponent("./same.sqlite"), dir.url.appendingPathComponent("sub/../same.sqlite"),
            dir.url.appendingPathComponent("link.sqlite"), dir.url.appendingPathComponent("hard.sqlite")
        ]
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("sub"), withIntermediateDirectories: true)
        for name in names {
            #expect {
                _ = try cache.merge(from: name)
            } throws: { error in
                "\(error)".contains(name.path) && "\(error)".contains("itself") && !"\(error)".contains("\n")
            }
        }
        #expect(try cache.counts() == (images: 1, texts: 0))
    }

    @Test func theBusyTimeoutComesFromTheEnvironment() throws {
        #expect(try EmbeddingCache.busyTimeout(environment: [:]) == 60)
        #expect(try EmbeddingCache.busyTimeout(environment: ["CLIP_AUDIT_CACHE_BUSY_TIMEOUT": "2.5"]) == 2.5)
        for bad in ["x", "-1", "inf", "nan"] {
            #expect(throws: CacheError.self) { try EmbeddingCache.busyTimeout(environment: ["CLIP_AUDIT_CACHE_BUSY_TIMEOUT": bad]) }
        }
    }
}

private extension ModelKey {
    /// A key whose weights hash is `name`, for tests that need only distinct models.
    static func named(_ name: String) -> ModelKey {
        ModelKey(weightsSHA256: name, configurationSHA256: "config")
    }
}
