import CLIPEngine
import Foundation

/// Encodes a list of image files into CLIP image embeddings, each distinct image content once,
/// for one model or for several at once (an audit's `models:`).
///
/// For every batch it reads the files and hashes their bytes (SHA-256) once, takes what the cache
/// has for each model, decodes each missing image once, preprocesses it once per distinct
/// preprocessing (models whose ``CLIPPipeline/preprocessingKey`` is equal share the pixel values)
/// and runs each model's image encoder on its misses. A producer thread prepares batch k+1 (I/O,
/// hashing, decoding, resizing) while batch k is being encoded, so the encoders do not wait for
/// the decoder. A file that cannot be read or decoded is reported with its reason; the others go on.
public final class ImageEmbedder: @unchecked Sendable {
    /// What became of one file.
    public enum Outcome: Sendable {
        case embedded(sha256: String, embedding: [Float], cached: Bool)
        /// The image cannot be used: the kind of cause the summaries count, and one line saying
        /// why (the decoder's words, without the path).
        case failed(kind: SkipKind, reason: String)
    }

    /// One model the images are encoded for: its pipeline, its cache key and, in a several-model
    /// audit, its label (named in `--cached-only` errors).
    public struct Member: Sendable {
        public var pipeline: CLIPPipeline
        public var modelKey: ModelKey
        public var label: String?

        public init(pipeline: CLIPPipeline, modelKey: ModelKey, label: String? = nil) {
            self.pipeline = pipeline
            self.modelKey = modelKey
            self.label = label
        }
    }

    let members: [Member]
    let cache: EmbeddingCache?
    let batchSize: Int
    let decodeThreads: Int
    let maxPixels: Int
    /// False: an image missing from the cache is an error instead of an encoder pass (`--cached-only`).
    let allowEncoding: Bool
    /// Per member, the seconds spent in its image encoder so far (run.json's per-model encode time).
    public private(set) var encodeSeconds: [Double]
    /// The seconds the producer spent reading, hashing, looking up, decoding and preprocessing
    /// (shared by every model; it overlaps the encoding). Read once ``embedAll(count:file:body:)`` returns.
    public private(set) var prepareSeconds: Double = 0

    /// An embedder for every model of `members` (at least one), reading each image once.
    public init(
        members: [Member], cache: EmbeddingCache?, batchSize: Int,
        decodeThreads: Int, maxPixels: Int, allowEncoding: Bool = true
    ) {
        precondition(!members.isEmpty, "an image embedder needs a model")
        self.allowEncoding = allowEncoding
        self.members = members
        self.cache = cache
        self.batchSize = max(1, batchSize)
        self.decodeThreads = max(1, decodeThreads)
        self.maxPixels = maxPixels
        encodeSeconds = Array(repeating: 0, count: members.count)
    }

    /// A batch ready for the encoders: per model, pixels for its misses, and every file's state.
    final class PreparedBatch: @unchecked Sendable {
        var range: Range<Int>
        /// [member][file of the batch]
        var outcomes: [[Outcome?]]
        var hashes: [String?]
        /// Per member: distinct image contents to encode, in pixel-buffer order, and the files they serve.
        var toEncode: [[(sha: String, files: [Int])]]
        var pixels: [[Float]]
        init(range: Range<Int>, members: Int) {
            self.range = range
            outcomes = Array(repeating: Array(repeating: nil, count: range.count), count: members)
            hashes = Array(repeating: nil, count: range.count)
            toEncode = Array(repeating: [], count: members)
            pixels = Array(repeating: [], count: members)
        }
    }

    /// Encodes `count` files, `file(i)` naming the i-th, batch by batch, for every model:
    /// `body` gets each batch's file indices and `outcomes[m][i]`, what became of the batch's i-th
    /// file for member `m`, in order, as soon as the batch is encoded. Nothing of a batch is kept
    /// once `body` returns, so memory does not grow with the number of files.
    public func embedAll(
        count: Int, file: @escaping @Sendable (Int) -> URL,
        body: (_ files: Range<Int>, _ outcomes: [[Outcome]]) throws -> Void
    ) throws {
        let batchCount = (count + batchSize - 1) / batchSize
        guard batchCount > 0 else { return }
        let size = batchSize
        let handoff = BatchHandoff()
        let producer = Thread { [self] in
            for start in stride(from: 0, to: count, by: size) {
                let range = start..<min(start + size, count)
                handoff.waitForSlot()
                do {
                    let started = Date()
                    let batch = try prepare(files: range.map(file), range: range)
                    // Written by the producer only; the hand-off orders it before the last take.
                    prepareSeconds += Date().timeIntervalSince(started)
                    handoff.put(.success(batch))
                } catch {
                    handoff.put(.failure(error))
                    return
                }
            }
        }
        producer.stackSize = 8 << 20
        producer.start()

        for _ in 0..<batchCount {
            let batch = try handoff.take().get()
            for member in members.indices { try encode(batch, member: member, file: file) }
            try body(batch.range, batch.outcomes.map { $0.map { $0 ?? .failed(kind: .notProcessed, reason: "internal: not processed") } })
        }
    }

    /// Reads, hashes, looks up and decodes one batch: `files` are the files of `range`.
    private func prepare(files: [URL], range: Range<Int>) throws -> PreparedBatch {
        let batch = PreparedBatch(range: range, members: members.count)
        func failAll(_ offset: Int, _ kind: SkipKind, _ reason: String) {
            for m in members.indices { batch.outcomes[m][offset] = .failed(kind: kind, reason: reason) }
        }
        var contents = [Data?](repeating: nil, count: range.count)
        for offset in 0..<range.count {
            do {
                let data = try FileKind.mappedContents(of: files[offset])
                guard !data.isEmpty else {
                    failAll(offset, .emptyFile, "empty file (0 bytes)")
                    continue
                }
                contents[offset] = data
                batch.hashes[offset] = data.withUnsafeBytes { SHA256Digest.hex(of: $0) }
            } catch {
                failAll(offset, .unreadable, "cannot read: \(error.reason)")
            }
        }
        let keys = batch.hashes.compactMap { $0 }
        // Per member: the distinct contents it must encode, in first-seen order, with their files.
        var pending = [[String: [Int]]](repeating: [:], count: members.count)
        var order = [[String]](repeating: [], count: members.count)
        for (m, member) in members.enumerated() {
            let pipeline = member.pipeline
            let lookup =
                try cache?.imageEmbeddingLookup(for: keys, model: member.modelKey, preprocessing: pipeline.preprocessingKey)
                ?? EmbeddingCache.Lookup()
            let cached = lookup.found
            for offset in 0..<range.count {
                guard let sha = batch.hashes[offset], batch.outcomes[m][offset] == nil else { continue }
                if let embedding = cached[sha] {
                    // The limits a decode applies hold for cached images too: a report must not
                    // depend on what the cache held (a large image scored with a cache, skipped without).
                    do {
                        try pipeline.processor.checkLimits(data: contents[offset]!, name: files[offset].path, maxPixels: maxPixels)
                    } catch {
                        batch.outcomes[m][offset] = Self.failure(error, data: contents[offset]!, file: files[offset])
                        continue
                    }
                    batch.outcomes[m][offset] = .embedded(sha256: sha, embedding: embedding, cached: true)
                } else if !allowEncoding, let cacheFile = lookup.unusable[sha] {
                    throw CacheError(
                        file: cacheFile,
                        message:
                            "--cached-only: the cached embedding of image \(files[offset].path)\(Self.forModel(member)) is unusable (zero, NaN or infinite values, or a wrong length); run without --cached-only to re-encode it"
                    )
                } else {
                    if pending[m][sha] == nil { order[m].append(sha) }
                    pending[m][sha, default: []].append(offset)
                }
            }
        }
        // The distinct preprocessings, each with the contents some member of it must encode (a
        // slot each in the group's pixel buffer); every such content is decoded once for all.
        var groupKeys: [String] = []
        var groupOf: [Int] = []
        for member in members {
            let key = member.pipeline.preprocessingKey
            if let g = groupKeys.firstIndex(of: key) { groupOf.append(g) } else { groupOf.append(groupKeys.count); groupKeys.append(key) }
        }
        var slots = [[String: Int]](repeating: [:], count: groupKeys.count)
        var decodeOrder: [(sha: String, offset: Int)] = []
        var decodeIndex: [String: Int] = [:]
        for m in members.indices {
            for sha in order[m] {
                if decodeIndex[sha] == nil { decodeIndex[sha] = decodeOrder.count; decodeOrder.append((sha, pending[m][sha]![0])) }
                if slots[groupOf[m]][sha] == nil { slots[groupOf[m]][sha] = slots[groupOf[m]].count }
            }
        }
        let processors = groupKeys.indices.map { g in members[groupOf.firstIndex(of: g)!].pipeline }
        // Per decoded content, the groups that preprocess it and where.
        let targets: [[(group: Int, slot: Int)]] = decodeOrder.map { entry in
            groupKeys.indices.compactMap { g in slots[g][entry.sha].map { (g, $0) } }
        }
        // Decode and preprocess in parallel, each into its own slots of the group buffers.
        let buffers = groupKeys.indices.map { g -> UnsafeMutableBufferPointer<Float> in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, slots[g].count * processors[g].pixelCount))
            buffer.initialize(repeating: 0)
            return buffer
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        // [decoded content × groups + group]: why it cannot be used there.
        let groupCount = groupKeys.count
        var failures = [Outcome?](repeating: nil, count: decodeOrder.count * groupCount)
        let inputs = contents
        let work = decodeOrder
        let maxPixels = self.maxPixels
        failures.withUnsafeMutableBufferPointer { failureBuffer in
            let shared = UnsafeSendable((buffers, failureBuffer))
            // At most `decodeThreads` decoders at once (the --threads budget), each taking
            // every workers-th image.
            let workers = max(1, min(decodeThreads, work.count))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let (buffers, failureBuffer) = shared.value
                for item in Swift.stride(from: worker, to: work.count, by: workers) {
                    let offset = work[item].offset
                    let file = files[offset]
                    let image: RGBImage
                    do {
                        image = try ImageDecoder.decode(data: inputs[offset]!, name: file.path, maxPixels: maxPixels)
                    } catch {
                        let failure = Self.failure(error, data: inputs[offset]!, file: file)
                        for target in targets[item] { failureBuffer[item * groupCount + target.group] = failure }
                        continue
                    }
                    for target in targets[item] {
                        let pipeline = processors[target.group]
                        do {
                            try pipeline.processor.checkResizeLimit(image, name: file.path, maxPixels: maxPixels)
                        } catch {
                            failureBuffer[item * groupCount + target.group] = Self.failure(error, data: inputs[offset]!, file: file)
                            continue
                        }
                        let stride = pipeline.pixelCount
                        let slot = UnsafeMutableBufferPointer(
                            rebasing: buffers[target.group][(target.slot * stride)..<((target.slot + 1) * stride)])
                        pipeline.processor.preprocess(image, into: slot)
                    }
                }
            }
        }
        // Per member: drop the failures, and gather its misses' pixels from its group's buffer.
        for m in members.indices {
            let g = groupOf[m]
            let stride = members[m].pipeline.pixelCount
            var kept: [(sha: String, files: [Int])] = []
            for sha in order[m] {
                let offsets = pending[m][sha]!
                if case .failed(let kind, let reason)? = failures[decodeIndex[sha]! * groupCount + g] {
                    // The same content may be named by several files: the reason holds no path.
                    for offset in offsets { batch.outcomes[m][offset] = .failed(kind: kind, reason: reason) }
                    continue
                }
                kept.append((sha, offsets))
            }
            // Undecodable files are skips either way; a decodable one that no cache holds is an
            // error when encoding is not allowed.
            if !allowEncoding, let first = kept.first {
                throw AuditError(
                    "--cached-only: image \(files[first.files[0]].path) is not in the cache(s)\(Self.forModel(members[m])); was a shard not run, or run with other model weights?"
                )
            }
            var pixels = [Float](repeating: 0, count: kept.count * stride)
            pixels.withUnsafeMutableBufferPointer { destination in
                for (item, entry) in kept.enumerated() {
                    let source = slots[g][entry.sha]! * stride
                    (destination.baseAddress! + item * stride).update(from: buffers[g].baseAddress! + source, count: stride)
                }
            }
            batch.toEncode[m] = kept
            batch.pixels[m] = pixels
        }
        return batch
    }

    /// ` for model LABEL` in a several-model audit's errors; nothing for one model.
    private static func forModel(_ member: Member) -> String {
        member.label.map { " for model \($0)" } ?? ""
    }

    private func encode(_ batch: PreparedBatch, member m: Int, file: (Int) -> URL) throws {
        let toEncode = batch.toEncode[m]
        guard !toEncode.isEmpty else { return }
        let pipeline = members[m].pipeline
        let started = Date()
        // One forward pass for the batch's misses. The encoder gives each image the same bits
        // whatever else shares its pass (its products compute every row the same way whatever
        // the call's size; attention is per image), so which images share a batch — what the
        // cache already held, the shard, --batch, --threads — changes nothing: a resumed run, a
        // sharded run and an uninterrupted run write byte-identical reports.
        let embeddings = batch.pixels[m].withUnsafeBufferPointer {
            pipeline.model.encodeImages(pixelValues: $0, count: toEncode.count)
        }
        batch.pixels[m] = []
        encodeSeconds[m] += Date().timeIntervalSince(started)
        // Before anything is scored or cached: weights with NaN would make every image the first class.
        try pipeline.model.checkEmbeddings(embeddings, of: "image") { file(batch.range.lowerBound + toEncode[$0].files[0]).path }
        let dim = embeddings.count / toEncode.count
        var store: [(key: String, embedding: [Float])] = []
        for (item, entry) in toEncode.enumerated() {
            let embedding = Array(embeddings[(item * dim)..<((item + 1) * dim)])
            store.append((entry.sha, embedding))
            for offset in entry.files { batch.outcomes[m][offset] = .embedded(sha256: entry.sha, embedding: embedding, cached: false) }
        }
        try cache?.storeImageEmbeddings(store, model: members[m].modelKey, preprocessing: pipeline.preprocessingKey)
    }

    /// The failure an error decoding (or checking) `data`, read from `file`, gives: its kind and
    /// the decoder's message without the path.
    static func failure(_ error: any Error, data: Data, file: URL) -> Outcome {
        .failed(kind: SkipKind(imageError: error, data: data), reason: shortReason("\(error)", file: file))
    }

    /// The decoder's one-line message without the path, which the skipped-row record already carries.
    static func shortReason(_ message: String, file: URL) -> String {
        for prefix in [file.path + ": ", file.lastPathComponent + ": "] where message.hasPrefix(prefix) {
            return String(message.dropFirst(prefix.count))
        }
        return message
    }
}

/// A bounded hand-off between the producer thread and the encoder: at most one prepared batch
/// waits while the encoder works on another, so memory stays at two batches.
private final class BatchHandoff: @unchecked Sendable {
    private let slots = DispatchSemaphore(value: 1)
    private let ready = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var queue: [Result<ImageEmbedder.PreparedBatch, Error>] = []

    func waitForSlot() { slots.wait() }

    func put(_ item: Result<ImageEmbedder.PreparedBatch, Error>) {
        lock.lock(); queue.append(item); lock.unlock()
        ready.signal()
    }

    func take() -> Result<ImageEmbedder.PreparedBatch, Error> {
        ready.wait()
        lock.lock(); defer { lock.unlock() }
        let item = queue.removeFirst()
        slots.signal()
        return item
    }
}

/// Carries a value that is safe by construction (disjoint writes) across a concurrent loop.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
