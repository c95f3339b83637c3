import Foundation
import TestSupport

@testable import CLIPEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal Hugging Face hub on 127.0.0.1 (ephemeral port) serving one repo, `test-org/tiny-clip`,
/// from the fixture checkpoint: the revision API, `resolve/<sha>/<file>` with ETag/X-Linked-Etag
/// (SHA-256 for model.safetensors, like LFS) and a 302 to `/cdn/<sha256>` for the weights, like
/// the hub's CDN redirect; vocab.json goes through a relative 307, like a renamed repo. It can
/// misbehave on purpose (`fault`). One connection at a time, `Connection: close`.
final class LoopbackHubServer: @unchecked Sendable {
    enum Fault: Sendable { case none, wrongSize, corruptBody, closeMidBody }

    static let repo = "test-org/tiny-clip"
    static let commit = "0123456789abcdef0123456789abcdef01234567"

    struct Request: Sendable { var method: String; var path: String; var headers: [String: String] }

    private let lock = NSLock()
    private var _requests: [Request] = []
    private var _fault: Fault = .none
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)
    let port: UInt16
    let files: [String: Data]
    let lfsSHA256: String

    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var requests: [Request] { lock.withLock { _requests } }
    var fault: Fault {
        get { lock.withLock { _fault } }
        set { lock.withLock { _fault = newValue } }
    }

    /// The folder holding Package.swift, found by walking up from this file.
    static var tinyClip: URL { FixturePaths.tinyCLIP }

    /// Files listed and served beside the checkpoint's (plain, not LFS), e.g. an OpenCLIP repo's.
    let extraFiles: [String]
    /// Checkpoint files the repo does not list.
    let omitted: Set<String>

    /// `omitting`: tiny-clip files the repo does not have (a SigLIP repo has no vocab.json).
    init(extraFiles extra: [String: URL] = [:], omitting: Set<String> = []) throws {
        var files: [String: Data] = [:]
        for name in ["config.json", "model.safetensors", "vocab.json", "merges.txt", "preprocessor_config.json"]
        where !omitting.contains(name) {
            files[name] = try Data(contentsOf: Self.tinyClip.appendingPathComponent(name))
        }
        for (name, url) in extra { files[name] = try Data(contentsOf: url) }
        extraFiles = extra.keys.sorted().filter { !["config.json", "model.safetensors", "preprocessor_config.json"].contains($0) }
        omitted = omitting
        self.files = files
        lfsSHA256 = SHA256Digest.hex(of: files["model.safetensors"]!)

        #if os(Linux)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listener = fd
        port = UInt16(bigEndian: addr.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting and waits for the accept loop to end.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        _ = done.wait(timeout: .now() + 5)
        close(listener)
    }

    private func acceptLoop() {
        defer { done.signal() }
        for _ in 0..<10_000 { // bounded: no test makes this many requests
            let fd = accept(listener, nil, nil)
            if fd < 0 { if errno == EINTR { continue } else { return } }
            var tv = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if let request = readRequest(fd) {
                lock.withLock { _requests.append(request) }
                respond(fd, request)
            }
            close(fd)
        }
    }

    private func readRequest(_ fd: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while buffer.count < 65_536 {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
            if let end = String(decoding: buffer, as: UTF8.self).range(of: "\r\n\r\n") {
                let lines = String(decoding: buffer, as: UTF8.self)[..<end.lowerBound].components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count >= 2 else { return nil }
                var headers: [String: String] = [:]
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                return Request(method: String(parts[0]), path: String(parts[1]), headers: headers)
            }
        }
        return nil
    }

    private func respond(_ fd: Int32, _ request: Request) {
        let fault = self.fault
        let prefix = "/\(Self.repo)/resolve/\(Self.commit)/"
        let renamed = "/renamed" + prefix
        let path = request.path
        if path == "/api/models/\(Self.repo)/revision/main" {
            let names =
                [
                    "config.json", "model.safetensors", "vocab.json", "merges.txt", "preprocessor_config.json",
                    "pytorch_model.bin", "flax_model.msgpack", "README.md", ".gitattributes"
                ].filter { !omitted.contains($0) } + extraFiles
            let siblings = names.map { "{\"rfilename\":\"\($0)\"}" }.joined(separator: ",")
            let json = "{\"id\":\"\(Self.repo)\",\"sha\":\"\(Self.commit)\",\"siblings\":[\(siblings)]}"
            send(fd, status: "200 OK", headers: ["Content-Type": "application/json"], body: Data(json.utf8), request: request)
        } else if path == prefix + "vocab.json" {
            send(fd, status: "307 Temporary Redirect", headers: ["Location": renamed + "vocab.json"], body: Data(), request: request)
        } else if path == prefix + "model.safetensors" {
            let size = files["model.safetensors"]!.count + (fault == .wrongSize ? 1 : 0)
            send(
                fd, status: "302 Found",
                headers: [
                    "Location": "\(endpoint.absoluteString)/cdn/\(lfsSHA256)",
                    "X-Linked-Etag": "\"\(lfsSHA256)\"", "X-Linked-Size": "\(size)",
                    "ETag": "\"\(lfsSHA256)\"", "X-Repo-Commit": Self.commit
                ], body: Data(), request: request)
        } else if path == "/cdn/\(lfsSHA256)" {
            var body = files["model.safetensors"]!
            if fault == .corruptBody { body[body.count / 2] ^= 0xFF }
            send(
                fd, status: "200 OK", headers: ["ETag": "\"cdn-etag\""], body: body, request: request,
                ranged: true, closeMidBody: fault == .closeMidBody)
        } else if let name = [prefix, renamed].lazy.compactMap({ path.hasPrefix($0) ? String(path.dropFirst($0.count)) : nil }).first,
            let body = files[name], name != "model.safetensors"
        {
            send(
                fd, status: "200 OK", headers: ["ETag": "\"\(Self.plainEtag(body))\"", "X-Repo-Commit": Self.commit],
                body: body, request: request, ranged: true)
        } else {
            send(
                fd, status: "404 Not Found", headers: ["X-Error-Code": "RepoNotFound"],
                body: Data("{\"error\":\"Repository not found\"}".utf8), request: request)
        }
    }

    private func send(
        _ fd: Int32, status: String, headers: [String: String], body: Data, request: Request,
        ranged: Bool = false, closeMidBody: Bool = false
    ) {
        var status = status
        var headers = headers
        var body = body
        if ranged, let range = request.headers["range"], range.hasPrefix("bytes="),
            let start = Int(range.dropFirst(6).split(separator: "-").first ?? ""), start < body.count
        {
            status = "206 Partial Content"
            headers["Content-Range"] = "bytes \(start)-\(body.count - 1)/\(body.count)"
            body = body.subdata(in: start..<body.count)
        }
        headers["Content-Length"] = "\(body.count)"
        headers["Connection"] = "close"
        var head = "HTTP/1.1 \(status)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        var out = Data(head.utf8)
        if request.method != "HEAD" { out += closeMidBody ? body.prefix(body.count / 2) : body }
        out.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                #if os(Linux)
                    let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #else
                    // Darwin has no MSG_NOSIGNAL: a port sets SO_NOSIGPIPE on the socket instead.
                    let n = Darwin.send(fd, raw.baseAddress! + offset, raw.count - offset, 0)
                #endif
                if n <= 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }

    /// A stable 40-hex ETag for a non-LFS file. The hub sends the git blob id (SHA-1), which
    /// clients do not verify; a truncated SHA-256 keeps the shape without a SHA-1 dependency.
    static func plainEtag(_ data: Data) -> String {
        String(SHA256Digest.hex(of: data).prefix(40))
    }
}
