import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP request through URLSession, with a delegate that controls redirects and streams
/// bodies to disk chunk by chunk (a 600 MB checkpoint never sits in memory).
struct HTTPTransfer: Sendable {
    var timeout: TimeInterval

    /// A body that stopped early (connection lost, timeout): the `.incomplete` file is kept.
    struct Interrupted: Error {
        var received: Int64
        var reason: String
    }

    /// A small request (API JSON, HEAD). Without `followAbsoluteRedirects`, a redirect to an
    /// absolute URL (the hub's CDN) is not followed and its response is returned; relative
    /// redirects (renamed repos) are always followed, as huggingface_hub does.
    func fetch(_ request: URLRequest, followAbsoluteRedirects: Bool, what: String) async throws -> (HTTPURLResponse, Data) {
        let delegate = TransferDelegate(followAbsoluteRedirects: followAbsoluteRedirects, sink: nil)
        try await run(request, delegate: delegate, what: what)
        if let error = delegate.failure {
            throw HubError(message: "\(what): cannot reach \(request.url?.absoluteString ?? "?"): \(error.localizedDescription)")
        }
        guard let response = delegate.response else {
            throw HubError(message: "\(what): no response from \(request.url?.absoluteString ?? "?")")
        }
        return (response, delegate.memory)
    }

    /// Streams the body of `request` into `file`, resuming an existing partial file with a Range
    /// request. Returns the file's total size and SHA-256.
    func download(
        _ request: URLRequest, to file: URL, expectedSize: Int64?, file name: String,
        endpointHost: String?, progress: DownloadProgress?
    ) async throws -> (Int64, String) {
        var request = request
        let existing = HubDownloader.fileSize(file.path) ?? 0
        let resumeFrom: Int64 = (existing > 0 && (expectedSize.map { existing < $0 } ?? false)) ? existing : 0
        if resumeFrom == 0 {
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw HubError(message: "\(name): cannot create \(file.path)")
            }
        } else {
            request.setValue("bytes=\(resumeFrom)-", forHTTPHeaderField: "Range")
        }
        let handle: FileHandle
        do { handle = try FileHandle(forUpdating: file) } catch {
            throw HubError(message: "\(name): cannot open \(file.path): \(error.localizedDescription)")
        }
        defer { try? handle.close() }

        let hasher = SHA256Digest.Hasher()
        if resumeFrom > 0 {
            // Hash the bytes already there; they are dropped if the server ignores the Range.
            while let chunk = try handle.read(upToCount: SHA256Digest.chunkSize), !chunk.isEmpty {
                hasher.update(chunk)
            }
        }
        let sink = FileSink(
            handle: handle, hasher: hasher, resumeFrom: resumeFrom, file: name,
            expectedSize: expectedSize, progress: progress)
        let delegate = TransferDelegate(followAbsoluteRedirects: true, sink: sink, endpointHost: endpointHost)
        try await run(request, delegate: delegate, what: name)

        if let error = delegate.failure {
            if let urlError = error as? URLError, sink.received > 0, sink.status == 200 || sink.status == 206 {
                throw Interrupted(received: sink.received, reason: urlError.localizedDescription)
            }
            if error is HubError { throw error }
            throw HubError(message: "\(name): download from \(request.url?.absoluteString ?? "?") failed: \(error.localizedDescription)")
        }
        guard let response = delegate.response else {
            throw HubError(message: "\(name): no response from \(request.url?.absoluteString ?? "?")")
        }
        guard response.statusCode == 200 || response.statusCode == 206 else {
            throw HubError(
                message:
                    "\(name): \(response.url?.absoluteString ?? "?") answered HTTP \(response.statusCode)\(HubDownloader.snippet(delegate.memory))"
            )
        }
        if let error = sink.writeError { throw error }
        let total = sink.received
        progress?(name, total, expectedSize ?? total)
        return (total, sink.hasher.finalize())
    }

    private func run(_ request: URLRequest, delegate: TransferDelegate, what: String) async throws {
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = 7 * 24 * 3600
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        config.httpShouldSetCookies = false
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: config, delegate: delegate, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            delegate.onComplete = { continuation.resume() }
            session.dataTask(with: request).resume()
        }
    }
}

/// Where a download's body goes: a file, hashed on the way.
final class FileSink: @unchecked Sendable {
    let handle: FileHandle
    var hasher: SHA256Digest.Hasher
    let resumeFrom: Int64
    let file: String
    let expectedSize: Int64?
    let progress: DownloadProgress?
    var received: Int64 = 0
    var status = 0
    var writeError: Error?

    init(
        handle: FileHandle, hasher: SHA256Digest.Hasher, resumeFrom: Int64, file: String,
        expectedSize: Int64?, progress: DownloadProgress?
    ) {
        self.handle = handle
        self.hasher = hasher
        self.resumeFrom = resumeFrom
        self.file = file
        self.expectedSize = expectedSize
        self.progress = progress
    }

    /// Called with the final response, before any body byte.
    func begin(status: Int) throws {
        self.status = status
        if status == 206 && resumeFrom > 0 {
            try handle.seekToEnd()
            received = resumeFrom
        } else if status == 200 {
            try handle.truncate(atOffset: 0)
            hasher = SHA256Digest.Hasher()
            received = 0
        }
    }

    func write(_ data: Data) throws {
        try handle.write(contentsOf: data)
        hasher.update(data)
        received += Int64(data.count)
        progress?(file, received, expectedSize)
    }
}

/// The URLSession delegate: all callbacks arrive on one serial queue.
final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let followAbsoluteRedirects: Bool
    let sink: FileSink?
    let endpointHost: String?
    var response: HTTPURLResponse?
    /// Small bodies (and error bodies of downloads), capped.
    var memory = Data()
    var failure: Error?
    var onComplete: (() -> Void)?
    static let memoryCap = 8 << 20

    init(followAbsoluteRedirects: Bool, sink: FileSink?, endpointHost: String? = nil) {
        self.followAbsoluteRedirects = followAbsoluteRedirects
        self.sink = sink
        self.endpointHost = endpointHost
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        let location = HubDownloader.header(response, "Location") ?? ""
        let isAbsolute = location.contains("://") || location.hasPrefix("//")
        if isAbsolute && !followAbsoluteRedirects {
            completionHandler(nil)
            return
        }
        var next = request
        // The token goes to the hub only, never to a CDN on another host.
        if next.url?.host != task.originalRequest?.url?.host && next.url?.host != endpointHost {
            next.setValue(nil, forHTTPHeaderField: "Authorization")
        }
        if let range = task.originalRequest?.value(forHTTPHeaderField: "Range") {
            next.setValue(range, forHTTPHeaderField: "Range")
        }
        if let method = task.originalRequest?.httpMethod { next.httpMethod = method }
        completionHandler(next)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let http = response as? HTTPURLResponse
        self.response = http
        if let sink, let status = http?.statusCode, status == 200 || status == 206 {
            do { try sink.begin(status: status) } catch {
                sink.writeError = error
                completionHandler(.cancel)
                return
            }
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        if let sink, sink.status == 200 || sink.status == 206 {
            do { try sink.write(data) } catch {
                sink.writeError = HubError(message: "\(sink.file): cannot write to disk: \(error.localizedDescription)")
                dataTask.cancel()
            }
        } else if memory.count < Self.memoryCap {
            memory.append(data)
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if response == nil, let http = task.response as? HTTPURLResponse { response = http }
        if let error, sink?.writeError == nil {
            failure = error
        }
        if let sink, let writeError = sink.writeError { failure = writeError }
        onComplete?()
        onComplete = nil
    }
}
