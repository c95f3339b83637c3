import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed pull. The description is one line naming the repo or file and what went wrong.
public struct HubError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// What a pull did.
public struct PullResult: Sendable {
    /// The snapshot, resolved as `ModelLocator` would.
    public var model: ResolvedModel
    /// The commit the revision pointed to.
    public var commit: String
    /// Files fetched over the network.
    public var downloaded: [String]
    /// Files already in the cache (snapshot link or blob present), not fetched again.
    public var reused: [String]
    /// Body bytes received.
    public var bytesReceived: Int64
}

/// Progress of one file: bytes received so far and the total when known. The last call for a
/// file has `received == total` (a total of `received` when the server gave none).
public typealias DownloadProgress = @Sendable (_ file: String, _ received: Int64, _ total: Int64?) -> Void

/// `clip-audit model pull`: fetches a checkpoint from a Hugging Face hub into the cache layout
/// of `huggingface_hub` (`models--ORG--NAME/{blobs,snapshots/SHA,refs/main}`), so the Python
/// tools and `ModelLocator` find it.
///
/// Every blob is written to `blobs/NAME.incomplete`, its size (and for LFS files its SHA-256)
/// verified, and only then renamed into place; the snapshot links and `refs/main` are written
/// after every blob is complete, so a failed pull leaves no snapshot and no partial blob. A
/// connection lost mid-body keeps the `.incomplete` file and the next pull resumes it with a
/// Range request.
public struct HubDownloader: Sendable {
    public static let defaultEndpoint = URL(string: "https://huggingface.co")!
    /// Files fetched when the repo lists them; the first four are required.
    public static let wantedFiles =
        ModelLocator.requiredFiles + ModelLocator.optionalFiles
        + ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]

    public var endpoint: URL
    public var cacheDirectory: URL
    public var token: String?
    /// Seconds without data before a request fails.
    public var idleTimeout: TimeInterval = 60

    /// `$HF_ENDPOINT` (default the public hub), the cache `ModelLocator` uses, and `$HF_TOKEN`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var endpoint = Self.defaultEndpoint
        if let e = environment["HF_ENDPOINT"], !e.isEmpty, let url = URL(string: e) { endpoint = url }
        let token = environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(
            endpoint: endpoint, cacheDirectory: ModelLocator(environment: environment).hubCacheDirectory,
            token: token)
    }

    public init(endpoint: URL, cacheDirectory: URL, token: String? = nil) {
        var text = endpoint.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        self.endpoint = URL(string: text) ?? endpoint
        self.cacheDirectory = cacheDirectory
        self.token = token
    }

    /// Fetches the checkpoint files of `repoID` at `revision` (a branch, tag or commit).
    public func pull(
        _ repoID: String, revision: String = "main",
        progress: DownloadProgress? = nil
    ) async throws -> PullResult {
        guard ModelLocator.isRepoID(repoID) else {
            throw HubError(message: "\"\(repoID)\" is not a repo id (expected ORG/NAME)")
        }
        let info = try await modelInfo(repoID, revision: revision)
        let commit = info.sha
        guard Self.isSafeName(commit) else {
            throw HubError(message: "\(repoID): the hub answered with an unusable commit \"\(commit)\"")
        }
        let files: [String]
        if let siblings = info.siblings {
            files = try Self.filesToFetch(listed: Set(siblings.map(\.rfilename)), repo: "\(repoID)@\(commit.prefix(12))")
        } else {
            files = ModelLocator.requiredFiles
        }

        let repoDir = cacheDirectory.appendingPathComponent(
            "models--" + repoID.replacingOccurrences(of: "/", with: "--"),
            isDirectory: true)
        let blobs = repoDir.appendingPathComponent("blobs", isDirectory: true)
        let snapshot = repoDir.appendingPathComponent("snapshots", isDirectory: true)
            .appendingPathComponent(commit, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        } catch {
            throw HubError(message: "cannot create \(blobs.path): \(error.localizedDescription)")
        }

        // Phase 1: every blob complete and verified.
        var blobNames: [String: String] = [:]
        var downloaded: [String] = []
        var reused: [String] = []
        var bytes: Int64 = 0
        for file in files {
            let link = snapshot.appendingPathComponent(file)
            if let existing = Self.blobName(ofLink: link, blobs: blobs) {
                blobNames[file] = existing
                reused.append(file)
                continue
            }
            let outcome = try await fetchBlob(repoID: repoID, commit: commit, file: file, blobs: blobs, progress: progress)
            blobNames[file] = outcome.blob
            if outcome.received > 0 || !outcome.reused {
                downloaded.append(file)
            } else {
                reused.append(file)
            }
            bytes += outcome.received
        }

        // Phase 2: the snapshot links, then the ref.
        do {
            try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
            for file in files {
                let link = snapshot.appendingPathComponent(file)
                let depth = file.split(separator: "/").count - 1
                let target = String(repeating: "../", count: depth + 2) + "blobs/" + blobNames[file]!
                if (try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) == target { continue }
                unlink(link.path)
                try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target)
            }
            if revision != commit {
                let ref = repoDir.appendingPathComponent("refs").appendingPathComponent(revision)
                try FileManager.default.createDirectory(at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(commit.utf8).write(to: ref, options: .atomic)
            }
        } catch {
            throw HubError(message: "cannot write the snapshot \(snapshot.path): \(error.localizedDescription)")
        }

        let found = ModelLocator.checkpoint(in: snapshot)
        guard found.missing.isEmpty else {
            throw HubError(message: "\(repoID): snapshot \(snapshot.path) lacks \(found.missing.joined(separator: ", ")) after the pull")
        }
        let model = ResolvedModel(
            id: repoID, directory: snapshot, revision: commit, files: found.files,
            format: found.format, weightsName: found.weightsName)
        return PullResult(model: model, commit: commit, downloaded: downloaded, reused: reused, bytesReceived: bytes)
    }

    /// The files to fetch from a repo listing `listed`, in the format `ModelLocator` will read:
    /// OpenCLIP when `open_clip_config.json` is there (its config and weights, safetensors
    /// preferred), else transformers (config, tokenizer files and weights, `model.safetensors`
    /// preferred over `pytorch_model.bin`, plus the optional files listed). `repo` labels errors.
    static func filesToFetch(listed: Set<String>, repo: String) throws -> [String] {
        if listed.contains("open_clip_config.json") {
            guard let weights = ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"].first(where: listed.contains) else {
                throw HubError(
                    message: "\(repo) has open_clip_config.json but neither open_clip_model.safetensors nor open_clip_pytorch_model.bin")
            }
            return ["open_clip_config.json", weights]
        }
        let weights =
            listed.contains("model.safetensors") || !listed.contains("pytorch_model.bin") ? "model.safetensors" : "pytorch_model.bin"
        // SigLIP (google/siglip-*, google/siglip2-*): a SentencePiece model instead of vocab.json
        // and merges.txt; SigLIP 2's 34 MB tokenizer.json is not needed beside tokenizer.model.
        if !listed.contains("vocab.json"), let sentencePiece = SiglipTokenizerFiles.modelNames.first(where: listed.contains) {
            let missing = ["config.json", weights].filter { !listed.contains($0) }
            guard missing.isEmpty else {
                throw HubError(
                    message: "\(repo) has \(sentencePiece) but no \(missing.joined(separator: ", ")) (a SigLIP checkpoint needs them)")
            }
            return ["config.json", weights, sentencePiece] + SiglipTokenizerFiles.optionalNames.filter(listed.contains)
        }
        let required = ["config.json", weights, "vocab.json", "merges.txt"]
        let missing = required.filter { !listed.contains($0) }
        guard missing.isEmpty else {
            throw HubError(
                message:
                    "\(repo) has no \(missing.joined(separator: ", ")) (clip-audit needs a CLIP checkpoint: transformers with model.safetensors or pytorch_model.bin, or OpenCLIP)"
            )
        }
        return required + wantedFiles.filter { listed.contains($0) && !required.contains($0) && !ModelLocator.requiredFiles.contains($0) }
    }

    // MARK: - Hub API

    struct ModelInfo: Decodable {
        struct Sibling: Decodable { var rfilename: String }
        var sha: String
        var siblings: [Sibling]?
    }

    func modelInfo(_ repoID: String, revision: String) async throws -> ModelInfo {
        let rev =
            revision.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? revision
        let url = URL(string: "\(endpoint.absoluteString)/api/models/\(repoID)/revision/\(rev)")!
        let (response, body) = try await HTTPTransfer(timeout: idleTimeout)
            .fetch(request(url), followAbsoluteRedirects: true, what: repoID)
        switch response.statusCode {
        case 200: break
        case 401, 403, 404:
            let hint = token == nil ? "; set HF_TOKEN if it is gated or private" : ""
            throw HubError(
                message:
                    "model \"\(repoID)\" revision \"\(revision)\" not found at \(endpoint.absoluteString) (HTTP \(response.statusCode)\(hint))"
            )
        default:
            throw HubError(message: "\(repoID): \(url.absoluteString) answered HTTP \(response.statusCode)\(Self.snippet(body))")
        }
        do {
            return try JSONDecoder().decode(ModelInfo.self, from: body)
        } catch {
            throw HubError(message: "\(repoID): \(url.absoluteString) did not answer with model info JSON (\(error.localizedDescription))")
        }
    }

    // MARK: - Blobs

    struct BlobOutcome { var blob: String; var received: Int64; var reused: Bool }

    /// HEAD the file for its blob name (etag) and size, then GET it into `blobs/` unless the
    /// blob is already there.
    func fetchBlob(
        repoID: String, commit: String, file: String, blobs: URL,
        progress: DownloadProgress?
    ) async throws -> BlobOutcome {
        let encodedFile = file.split(separator: "/").map {
            $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? String($0)
        }.joined(separator: "/")
        let resolveURL = URL(string: "\(endpoint.absoluteString)/\(repoID)/resolve/\(commit)/\(encodedFile)")!
        var head = request(resolveURL)
        head.httpMethod = "HEAD"
        let transfer = HTTPTransfer(timeout: idleTimeout)
        let (meta, _) = try await transfer.fetch(head, followAbsoluteRedirects: false, what: file)
        guard (200..<400).contains(meta.statusCode) else {
            throw HubError(message: "\(file): \(resolveURL.absoluteString) answered HTTP \(meta.statusCode)")
        }
        let etag = (Self.header(meta, "X-Linked-Etag") ?? Self.header(meta, "ETag")).map(Self.normalizeEtag)
        let size = (Self.header(meta, "X-Linked-Size") ?? Self.header(meta, "Content-Length")).flatMap { Int64($0) }
        guard let etag, Self.isSafeName(etag) else {
            throw HubError(message: "\(file): the hub gave no usable ETag for \(resolveURL.absoluteString)")
        }
        let blob = blobs.appendingPathComponent(etag)
        if let existing = Self.fileSize(blob.path), size == nil || existing == size {
            return BlobOutcome(blob: etag, received: 0, reused: true)
        }

        // Where to GET: the redirect target the HEAD stopped at (the CDN), else the file itself.
        var downloadURL = meta.url ?? resolveURL
        if (300..<400).contains(meta.statusCode), let location = Self.header(meta, "Location"),
            let target = URL(string: location, relativeTo: downloadURL)?.absoluteURL
        {
            downloadURL = target
        }
        var get = request(downloadURL)
        if downloadURL.host != endpoint.host { get.setValue(nil, forHTTPHeaderField: "Authorization") }

        let incomplete = blobs.appendingPathComponent(etag + ".incomplete")
        let expectSHA256 = SHA256Digest.isSHA256Hex(etag) ? etag.lowercased() : nil
        let received: Int64
        let digest: String
        do {
            (received, digest) = try await transfer.download(
                get, to: incomplete, expectedSize: size, file: file,
                endpointHost: endpoint.host, progress: progress)
        } catch let error as HTTPTransfer.Interrupted {
            // Keep the .incomplete file: the next pull resumes it.
            throw HubError(
                message: "\(file): download interrupted after \(error.received) bytes (\(error.reason)); run the pull again to resume")
        } catch {
            unlink(incomplete.path)
            throw error
        }
        if let size, received != size {
            unlink(incomplete.path)
            throw HubError(message: "\(file): received \(received) bytes, the hub announced \(size); nothing was kept")
        }
        if let expectSHA256, digest != expectSHA256 {
            unlink(incomplete.path)
            throw HubError(message: "\(file): SHA-256 \(digest) does not match the hub's \(expectSHA256); nothing was kept")
        }
        guard rename(incomplete.path, blob.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(incomplete.path)
            throw HubError(message: "\(file): cannot move the download into \(blob.path): \(reason)")
        }
        return BlobOutcome(blob: etag, received: received, reused: false)
    }

    // MARK: - Helpers

    func request(_ url: URL) -> URLRequest {
        var r = URLRequest(url: url)
        r.timeoutInterval = idleTimeout
        r.setValue("clip-audit/\(CLIPEngineInfo.version)", forHTTPHeaderField: "User-Agent")
        // Sizes are checked against Content-Length: no transparent compression.
        r.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        if let token, url.host == endpoint.host {
            r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        return r
    }

    /// The blob a snapshot link points to, when the link resolves to a file inside `blobs`.
    static func blobName(ofLink link: URL, blobs: URL) -> String? {
        guard let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path) else { return nil }
        let name = (dest as NSString).lastPathComponent
        guard fileSize(blobs.appendingPathComponent(name).path) != nil,
            ModelLocator.realPath(link) == ModelLocator.realPath(blobs.appendingPathComponent(name))
        else { return nil }
        return name
    }

    static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    static func header(_ response: HTTPURLResponse, _ name: String) -> String? {
        for (key, value) in response.allHeaderFields {
            if let k = key as? String, k.caseInsensitiveCompare(name) == .orderedSame { return value as? String }
        }
        return nil
    }

    /// `W/"abc"` → `abc`.
    static func normalizeEtag(_ raw: String) -> String {
        var s = raw.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("W/") { s.removeFirst(2) }
        return s.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// A name safe as one path component: letters, digits, `-`, `_`, `.`; not `.`/`..`.
    static func isSafeName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 255 && s != "." && s != ".." && !s.hasPrefix(".")
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    static func snippet(_ body: Data) -> String {
        guard !body.isEmpty else { return "" }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "" : ": \(text)"
    }
}
