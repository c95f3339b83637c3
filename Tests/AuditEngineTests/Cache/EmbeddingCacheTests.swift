import Foundation
import Testing
@testable import AuditEngine

@Suite struct EmbeddingCacheTests {
    @Test func storesAndFindsByContentModelAndPreprocessing() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let url = dir.url.appendingPathComponent("nested/cache.sqlite")
        let cache = try EmbeddingCache(url: url)
        try cache.storeImageEmbeddings([("aaa", [1, 2, 3]), ("bbb", [4, 5, 6])], model: "m1", preprocessing: "p1")
        try cache.storeTextEmbeddings([("a photo of a cat.", [0.5, -0.5])], model: "m1", tokenizer: "t1")
        #expect(try cache.imageEmbeddings(for: ["aaa", "bbb", "ccc"], model: "m1", preprocessing: "p1") == ["aaa": [1, 2, 3], "bbb": [4, 5, 6]])
        // Another model or other preprocessing is another key: nothing found.
        #expect(try cache.imageEmbeddings(for: ["aaa"], model: "m2", preprocessing: "p1").isEmpty)
        #expect(try cache.imageEmbeddings(for: ["aaa"], model: "m1", preprocessing: "p2").isEmpty)
        #expect(try cache.textEmbeddings(for: ["a photo of a cat."], model: "m1", tokenizer: "t2").isEmpty)
        #expect(try cache.textEmbeddings(for: ["a photo of a cat."], model: "m1", tokenizer: "t1") == ["a photo of a cat.": [0.5, -0.5]])
        // A second connection (another run) sees the same rows.
        let other = try EmbeddingCache(url: url)
        #expect(try other.counts() == (images: 2, texts: 1))
        let readOnly = try EmbeddingCache(url: url, readOnly: true)
        #expect(try readOnly.imageEmbeddings(for: ["bbb"], model: "m1", preprocessing: "p1")["bbb"] == [4, 5, 6])
    }

    @Test func fingerprintIsComputedOnceUntilTheFileChanges() throws {
        let dir = try TempDir()
        defer { dir.cleanUp() }
        let cache = try EmbeddingCache(url: dir.url.appendingPathComponent("c.sqlite"))
        let file = try dir.write("weights.bin", "abc")
        var calls = 0
        let compute: (URL) throws -> String = { _ in calls += 1; return "digest-\(calls)" }
        #expect(try cache.fingerprint(ofFile: file, compute: compute) == "digest-1")
        #expect(try cache.fingerprint(ofFile: file, compute: compute) == "digest-1")
        #expect(calls == 1)
        try "abcd".write(to: file, atomically: false, encoding: .utf8)   // new size: computed again
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
        #expect(EmbeddingCache.defaultURL(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]).path == "/x/cache/clip-audit/embeddings.sqlite")
        #expect(EmbeddingCache.defaultURL(environment: ["HOME": "/home/u"]).path == "/home/u/.cache/clip-audit/embeddings.sqlite")
    }
}
