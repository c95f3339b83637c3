import CLIPEngine
import Foundation

/// Encodes a list of image files into CLIP image embeddings, each distinct image content once.
///
/// For every batch it reads the files, hashes their bytes (SHA-256), takes what the cache has,
/// decodes and preprocesses the rest in parallel and runs the image encoder on them. A producer
/// thread prepares batch k+1 (I/O, hashing, decoding, resizing) while batch k is being encoded,
/// so the encoder does not wait for the decoder. A file that cannot be read or decoded is
/// reported with its reason; the others go on.
public final class ImageEmbedder: @unchecked Sendable {
    /// What became of one file.
    public enum Outcome: Sendable {
        case embedded(sha256: String, embedding: [Float], cached: Bool)
        case failed(reason: String)
    }

    let pipeline: CLIPPipeline
    let cache: EmbeddingCache?
    let modelKey: String
    let batchSize: Int
    let decodeThreads: Int
    let maxPixels: Int
    /// False: an image missing from the cache is an error instead of an encoder pass (`--cached-only`).
    let allowEncoding: Bool

    public init(pipeline: CLIPPipeline, cache: EmbeddingCache?, modelKey: String, batchSize: Int,
                decodeThreads: Int, maxPixels: Int, allowEncoding: Bool = true) {
        self.allowEncoding = allowEncoding
        self.pipeline = pipeline
        self.cache = cache
        self.modelKey = modelKey
        self.batchSize = max(1, batchSize)
        self.decodeThreads = max(1, decodeThreads)
        self.maxPixels = maxPixels
    }

    /// A batch ready for the encoder: pixels for the misses, and every file's state.
    final class PreparedBatch: @unchecked Sendable {
        var range: Range<Int>
        var outcomes: [Outcome?]
        var hashes: [String?]
        /// Distinct image contents to encode, in pixel-buffer order, and the files they serve.
        var toEncode: [(sha: String, files: [Int])] = []
        var pixels: [Float] = []
        init(range: Range<Int>) {
            self.range = range
            outcomes = Array(repeating: nil, count: range.count)
            hashes = Array(repeating: nil, count: range.count)
        }
    }

    /// Encodes `count` files, `file(i)` naming the i-th, batch by batch: `body` gets each batch's
    /// file indices and outcomes, in order, as soon as the batch is encoded. Nothing of a batch is
    /// kept once `body` returns, so memory does not grow with the number of files.
    public func embed(count: Int, file: @escaping @Sendable (Int) -> URL,
                      body: (_ files: Range<Int>, _ outcomes: [Outcome]) throws -> Void) throws {
        let batchCount = (count + batchSize - 1) / batchSize
        guard batchCount > 0 else { return }
        let size = batchSize
        let handoff = BatchHandoff()
        let producer = Thread { [self] in
            for start in stride(from: 0, to: count, by: size) {
                let range = start..<min(start + size, count)
                handoff.waitForSlot()
                do {
                    handoff.put(.success(try prepare(files: range.map(file), range: range)))
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
            try encode(batch, file: file)
            try body(batch.range, batch.outcomes.map { $0 ?? .failed(reason: "internal: not processed") })
        }
    }

    /// Reads, hashes, looks up and decodes one batch: `files` are the files of `range`.
    private func prepare(files: [URL], range: Range<Int>) throws -> PreparedBatch {
        let batch = PreparedBatch(range: range)
        var contents = [Data?](repeating: nil, count: range.count)
        for offset in 0..<range.count {
            do {
                let data = try FileKind.mappedContents(of: files[offset])
                guard !data.isEmpty else {
                    batch.outcomes[offset] = .failed(reason: "empty file (0 bytes)")
                    continue
                }
                contents[offset] = data
                batch.hashes[offset] = data.withUnsafeBytes { SHA256Digest.hex(of: $0) }
            } catch {
                batch.outcomes[offset] = .failed(reason: "cannot read: \(error.reason)")
            }
        }
        let keys = batch.hashes.compactMap { $0 }
        let lookup = try cache?.imageEmbeddingLookup(for: keys, model: modelKey, preprocessing: pipeline.preprocessingKey) ?? EmbeddingCache.Lookup()
        let cached = lookup.found
        var pending: [String: [Int]] = [:]
        var order: [String] = []
        for offset in 0..<range.count {
            guard let sha = batch.hashes[offset], batch.outcomes[offset] == nil else { continue }
            if let embedding = cached[sha] {
                // The limits a decode applies hold for cached images too: a report must not
                // depend on what the cache held (a large image scored with a cache, skipped without).
                do {
                    try pipeline.processor.checkLimits(data: contents[offset]!, name: files[offset].path, maxPixels: maxPixels)
                } catch {
                    batch.outcomes[offset] = .failed(reason: Self.shortReason("\(error)", file: files[offset]))
                    continue
                }
                batch.outcomes[offset] = .embedded(sha256: sha, embedding: embedding, cached: true)
            } else if !allowEncoding, let cacheFile = lookup.unusable[sha] {
                throw CacheError(file: cacheFile, message: "--cached-only: the cached embedding of image \(files[offset].path) is unusable (zero, NaN or infinite values, or a wrong length); run without --cached-only to re-encode it")
            } else {
                if pending[sha] == nil { order.append(sha) }
                pending[sha, default: []].append(offset)
            }
        }
        batch.toEncode = order.map { ($0, pending[$0]!) }
        // Decode and preprocess the misses in parallel, each into its own slice of the batch buffer.
        let stride = pipeline.pixelCount
        var pixels = [Float](repeating: 0, count: stride * batch.toEncode.count)
        var failures = [String?](repeating: nil, count: batch.toEncode.count)
        let work = batch.toEncode
        let inputs = contents
        pixels.withUnsafeMutableBufferPointer { pixelBuffer in
            failures.withUnsafeMutableBufferPointer { failureBuffer in
                let shared = UnsafeSendable((pixelBuffer, failureBuffer))
                // At most `decodeThreads` decoders at once (the --threads budget), each taking
                // every workers-th image.
                let workers = max(1, min(decodeThreads, work.count))
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let (pixelBuffer, failureBuffer) = shared.value
                    for item in Swift.stride(from: worker, to: work.count, by: workers) {
                        let offset = work[item].files[0]
                        let file = files[offset]
                        do {
                            let image = try pipeline.processor.decode(data: inputs[offset]!, name: file.path, maxPixels: maxPixels)
                            let slot = UnsafeMutableBufferPointer(rebasing: pixelBuffer[(item * stride)..<((item + 1) * stride)])
                            pipeline.processor.preprocess(image, into: slot)
                        } catch {
                            failureBuffer[item] = "\(error)"
                        }
                    }
                }
            }
        }
        // Drop the failures from what gets encoded, compacting the pixel buffer.
        var kept: [(sha: String, files: [Int])] = []
        for (item, entry) in work.enumerated() {
            if let reason = failures[item] {
                for offset in entry.files { batch.outcomes[offset] = .failed(reason: Self.shortReason(reason, file: files[offset])) }
                continue
            }
            if kept.count != item {
                let destination = kept.count * stride
                for i in 0..<stride { pixels[destination + i] = pixels[item * stride + i] }
            }
            kept.append(entry)
        }
        // Undecodable files are skips either way; a decodable one that no cache holds is an error
        // when encoding is not allowed.
        if !allowEncoding, let first = kept.first {
            throw AuditError("--cached-only: image \(files[first.files[0]].path) is not in the cache(s); was a shard not run, or run with other model weights?")
        }
        pixels.removeLast(pixels.count - kept.count * stride)
        batch.toEncode = kept
        batch.pixels = pixels
        return batch
    }

    private func encode(_ batch: PreparedBatch, file: (Int) -> URL) throws {
        guard !batch.toEncode.isEmpty else { return }
        // One forward pass for the batch's misses. The encoder gives each image the same bits
        // whatever else shares its pass (its products compute every row the same way whatever
        // the call's size; attention is per image), so which images share a batch — what the
        // cache already held, the shard, --batch, --threads — changes nothing: a resumed run, a
        // sharded run and an uninterrupted run write byte-identical reports.
        let embeddings = batch.pixels.withUnsafeBufferPointer {
            pipeline.model.encodeImages(pixelValues: $0, count: batch.toEncode.count)
        }
        // Before anything is scored or cached: weights with NaN would make every image the first class.
        try pipeline.model.checkEmbeddings(embeddings, of: "image") { file(batch.range.lowerBound + batch.toEncode[$0].files[0]).path }
        let dim = embeddings.count / batch.toEncode.count
        var store: [(key: String, embedding: [Float])] = []
        for (item, entry) in batch.toEncode.enumerated() {
            let embedding = Array(embeddings[(item * dim)..<((item + 1) * dim)])
            store.append((entry.sha, embedding))
            for offset in entry.files { batch.outcomes[offset] = .embedded(sha256: entry.sha, embedding: embedding, cached: false) }
        }
        try cache?.storeImageEmbeddings(store, model: modelKey, preprocessing: pipeline.preprocessingKey)
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
