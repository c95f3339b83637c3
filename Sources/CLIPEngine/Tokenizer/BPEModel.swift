import Foundation

/// The byte-level BPE of OpenAI's `simple_tokenizer`: vocabulary, merge ranks and a cache.
///
/// Symbols are vocabulary ids throughout. A piece's UTF-8 bytes become the ids of their
/// `bytes_to_unicode` characters (the last one with `</w>` appended); then the adjacent pair with
/// the lowest merge rank is merged everywhere (left to right, non-overlapping) until no pair has
/// a rank — the same loop as `SimpleTokenizer.bpe`.
final class BPEModel: @unchecked Sendable {
    /// OpenAI uses `merges[1:49152-256-2+1]`: at most this many merges after the version line.
    static let maxMerges = 49152 - 256 - 2

    let vocabulary: [String: Int32]
    /// The highest id in `vocabulary`.
    let highestID: Int32
    /// `(left << 32 | right)` → (rank, merged id).
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    /// Ids of the byte symbols, without and with `</w>`.
    private let byteIDs: [Int32]
    private let byteEndIDs: [Int32]
    /// Pieces that map straight to one id (the special tokens), as the reference's cache does.
    private let specialPieces: [[UInt8]: Int32]

    private let cacheLock = NSLock()
    private var cache: [[UInt8]: [Int32]] = [:]
    /// The cache is cleared when it grows past this many words (the reference never clears it).
    private let cacheLimit = 100_000

    /// Loads `vocab.json` and `merges.txt`. When `vocabularySize` is given (the rows of the text
    /// encoder's token embedding), every id must be below it: the encoder reads the embedding
    /// row of each id it is given, so a larger one would read past the table.
    init(vocabularyURL: URL, mergesURL: URL, specialTokens: [String], vocabularySize: Int? = nil) throws {
        let vocabulary = try Self.loadVocabulary(vocabularyURL, size: vocabularySize)
        self.vocabulary = vocabulary
        highestID = vocabulary.values.max() ?? 0

        func id(_ token: String, _ url: URL, what: String) throws -> Int32 {
            guard let id = vocabulary[token] else {
                throw TokenizerError(
                    code: .missingToken, file: url,
                    message: "\(what) \(token.debugDescription) is not in the vocabulary")
            }
            return id
        }
        var byteIDs: [Int32] = []
        var byteEndIDs: [Int32] = []
        byteIDs.reserveCapacity(256)
        byteEndIDs.reserveCapacity(256)
        for scalar in ByteEncoder.byteToScalar {
            byteIDs.append(try id(String(Character(scalar)), vocabularyURL, what: "byte symbol"))
            byteEndIDs.append(try id(String(Character(scalar)) + "</w>", vocabularyURL, what: "byte symbol"))
        }
        self.byteIDs = byteIDs
        self.byteEndIDs = byteEndIDs

        var specials: [[UInt8]: Int32] = [:]
        for token in specialTokens {
            specials[Array(token.utf8)] = try id(token, vocabularyURL, what: "special token")
        }
        specialPieces = specials

        let pairs = try Self.loadMerges(mergesURL)
        var mergeTable: [UInt64: (rank: Int32, id: Int32)] = [:]
        mergeTable.reserveCapacity(pairs.count)
        for (rank, pair) in pairs.enumerated() {
            let line = pair.line
            func symbol(_ s: String) throws -> Int32 {
                guard let id = vocabulary[s] else {
                    throw TokenizerError(
                        code: .malformedMerges, file: mergesURL,
                        message: "line \(line): symbol \(s.debugDescription) is not in the vocabulary")
                }
                return id
            }
            let left = try symbol(pair.left)
            let right = try symbol(pair.right)
            let merged = try symbol(pair.left + pair.right)
            // Later duplicates win, as in Python's dict(zip(merges, range(len(merges)))).
            mergeTable[UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))] =
                (Int32(rank), merged)
        }
        merges = mergeTable
    }

    /// The ids of one piece (its UTF-8 bytes), using and filling the cache.
    func encode(piece bytes: [UInt8], into output: inout [Int32]) {
        if let special = specialPieces[bytes] {
            output.append(special)
            return
        }
        cacheLock.lock()
        let cached = cache[bytes]
        cacheLock.unlock()
        if let cached {
            output.append(contentsOf: cached)
            return
        }
        let ids = bpe(bytes)
        cacheLock.lock()
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[bytes] = ids
        cacheLock.unlock()
        output.append(contentsOf: ids)
    }

    /// `SimpleTokenizer.bpe` on ids.
    func bpe(_ bytes: [UInt8]) -> [Int32] {
        guard let last = bytes.last else { return [] }
        var word = bytes.dropLast().map { byteIDs[Int($0)] }
        word.append(byteEndIDs[Int(last)])
        while word.count > 1 {
            // The adjacent pair with the lowest rank.
            var best: (rank: Int32, id: Int32, left: Int32, right: Int32)?
            for k in 0..<(word.count - 1) {
                if let m = merges[key(word[k], word[k + 1])], best == nil || m.rank < best!.rank {
                    best = (m.rank, m.id, word[k], word[k + 1])
                }
            }
            guard let best else { break }
            var merged: [Int32] = []
            merged.reserveCapacity(word.count)
            var k = 0
            while k < word.count {
                if k + 1 < word.count, word[k] == best.left, word[k + 1] == best.right {
                    merged.append(best.id)
                    k += 2
                } else {
                    merged.append(word[k])
                    k += 1
                }
            }
            word = merged
        }
        return word
    }

    @inline(__always)
    private func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    // MARK: Loading

    private static func readData(_ url: URL) throws -> Data {
        // OpenAI's tokenizer files that clip-audit carries (for checkpoints that ship none).
        if let bundled = BundledTokenizer.data(for: url) { return bundled }
        do {
            return try FileKind.contents(of: url, limit: FileKind.checkpointTextLimit)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw TokenizerError(
                code: .unreadableFile, file: url,
                message: exists ? "cannot read the file: \(error.reason)" : "file not found")
        }
    }

    /// `vocab.json` as token → id; ids must be in 0..<`size` (in 0...Int32.max without one).
    static func loadVocabulary(_ url: URL, size: Int? = nil) throws -> [String: Int32] {
        let data = try readData(url)
        let decoded: [String: Int]
        do {
            decoded = try JSONDecoder().decode([String: Int].self, from: data)
        } catch DecodingError.dataCorrupted {
            throw TokenizerError(code: .malformedVocabulary, file: url, message: "not valid JSON")
        } catch {
            throw TokenizerError(
                code: .malformedVocabulary, file: url,
                message: "expected a JSON object mapping each token to an integer id")
        }
        // The decoder kept one id of a token listed twice; which one the file meant is unknown.
        if let path = JSONDuplicateKeys.first(in: data) {
            throw TokenizerError(
                code: .malformedVocabulary, file: url,
                message: "token \(path[0].debugDescription) appears twice")
        }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(decoded.count)
        for (token, value) in decoded {
            guard let id = Int32(exactly: value), id >= 0 else {
                throw TokenizerError(
                    code: .malformedVocabulary, file: url,
                    message: "token \(token.debugDescription) has id \(value), outside 0...\(Int32.max)")
            }
            if let size, Int(id) >= size {
                throw TokenizerError(
                    code: .malformedVocabulary, file: url,
                    message:
                        "token \(token.debugDescription) has id \(id), outside the text encoder's vocabulary of \(size) (text_config.vocab_size in config.json)"
                )
            }
            vocabulary[token] = id
        }
        return vocabulary
    }

    struct MergePair {
        var left: String
        var right: String
        var line: Int
    }

    /// The merge lines after the `#version` header, at most `maxMerges` of them.
    static func loadMerges(_ url: URL) throws -> [MergePair] {
        let data = try readData(url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError(code: .malformedMerges, file: url, message: "not valid UTF-8")
        }
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        while let last = lines.last, last.allSatisfy(TextCleaner.isPythonSpace) { lines.removeLast() }
        var firstLine = 1
        if let header = lines.first, String(String.UnicodeScalarView(header)).hasPrefix("#version") {
            lines.removeFirst()
            firstLine = 2
        }
        var pairs: [MergePair] = []
        pairs.reserveCapacity(min(lines.count, maxMerges))
        for (offset, line) in lines.prefix(maxMerges).enumerated() {
            let parts = line.split(whereSeparator: TextCleaner.isPythonSpace)
            guard parts.count == 2 else {
                throw TokenizerError(
                    code: .malformedMerges, file: url,
                    message: "line \(offset + firstLine): expected two space-separated symbols, found \(parts.count)")
            }
            pairs.append(
                MergePair(
                    left: String(String.UnicodeScalarView(parts[0])),
                    right: String(String.UnicodeScalarView(parts[1])),
                    line: offset + firstLine))
        }
        // Without merges every word is encoded as single bytes: ids the text encoder never saw
        // in training, and every text embedding would change with no error anywhere.
        guard !pairs.isEmpty else {
            throw TokenizerError(
                code: .malformedMerges, file: url,
                message: "has no merges (a CLIP tokenizer has tens of thousands)")
        }
        return pairs
    }
}
