import Foundation
import TestSupport
import Testing

@testable import CLIPEngine

extension Models {
    /// `model pull` against a loopback hub on 127.0.0.1.
    @Suite struct HubDownloaderTests {
        let fm = FileManager.default
        let repo = LoopbackHubServer.repo
        let commit = LoopbackHubServer.commit

        func tempCache() throws -> URL {
            let url = fm.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString)", isDirectory: true)
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        func downloader(_ server: LoopbackHubServer, cache: URL) -> HubDownloader {
            HubDownloader(environment: ["HF_ENDPOINT": server.endpoint.absoluteString, "HF_HUB_CACHE": cache.path])
        }

        func repoDir(_ cache: URL) -> URL { cache.appendingPathComponent("models--test-org--tiny-clip") }

        func contents(_ dir: URL) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        }

        /// A repo with open_clip_config.json (beside transformers files, as LAION's are): the pull
        /// fetches only the OpenCLIP config and weights, and the locator resolves it as OpenCLIP.
        @Test func pullFetchesAnOpenCLIPRepo() async throws {
            let fixture = FixturePaths.root.appendingPathComponent("formats/openclip-gelu-p32")
            let server = try LoopbackHubServer(extraFiles: [
                "open_clip_config.json": fixture.appendingPathComponent("open_clip_config.json"),
                "open_clip_pytorch_model.bin": fixture.appendingPathComponent("open_clip_pytorch_model.bin")
            ])
            defer { server.stop() }
            let cache = try tempCache()
            defer { try? fm.removeItem(at: cache) }
            let result = try await downloader(server, cache: cache).pull(repo)
            #expect(Set(result.downloaded) == ["open_clip_config.json", "open_clip_pytorch_model.bin"])
            #expect(result.model.format == .openCLIP && result.model.weightsName == "open_clip_pytorch_model.bin")
            #expect(!server.requests.contains { $0.path.hasSuffix("model.safetensors") || $0.path.hasSuffix("vocab.json") })
            let model = try ModelLocator(environment: ["HF_HUB_CACHE": cache.path]).resolve(repo)
            #expect(model.format == .openCLIP)
            let pipeline = try CLIPPipeline(model: model)
            #expect(pipeline.model.configuration.vision.patchSize == 32)
        }

        /// A SigLIP repo (spiece.model, no vocab.json): the pull fetches the config, weights,
        /// SentencePiece model and the optional tokenizer and processor settings, and the result
        /// loads as SigLIP.
        @Test func pullFetchesASiglipRepo() async throws {
            let fixture = FixturePaths.root.appendingPathComponent("siglip/siglip")
            var extra: [String: URL] = [:]
            for name in ["config.json", "model.safetensors", "spiece.model", "tokenizer_config.json", "preprocessor_config.json"] {
                extra[name] = fixture.appendingPathComponent(name)
            }
            let server = try LoopbackHubServer(extraFiles: extra, omitting: ["vocab.json", "merges.txt"])
            defer { server.stop() }
            let cache = try tempCache()
            defer { try? fm.removeItem(at: cache) }
            let result = try await downloader(server, cache: cache).pull(repo)
            #expect(
                Set(result.downloaded) == [
                    "config.json", "model.safetensors", "spiece.model", "tokenizer_config.json", "preprocessor_config.json"
                ])
            #expect(result.model.format == .siglip)
            let pipeline = try CLIPPipeline(model: ModelLocator(environment: ["HF_HUB_CACHE": cache.path]).resolve(repo))
            #expect(pipeline.model.logitBias != nil && pipeline.tokenizer.siglip?.kind == .siglip)
        }

        @Test func siglip2ListingFetchesTokenizerModelNotTokenizerJSON() throws {
            let files = try HubDownloader.filesToFetch(
                listed: [
                    "config.json", "model.safetensors", "tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                    "special_tokens_map.json", "preprocessor_config.json", "README.md"
                ], repo: "google/siglip2-base-patch16-224")
            #expect(files == ["config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json", "preprocessor_config.json"])
        }

        @Test func pullFillsTheCacheLayoutAndLocatorFindsIt() async throws {
            let server = try LoopbackHubServer()
            defer { server.stop() }
            let cache = try tempCache()
            defer { try? fm.removeItem(at: cache) }

            let seen = ProgressLog()
            let result = try await downloader(server, cache: cache).pull(repo) { file, received, total in
                seen.add(file, received, total)
            }
            #expect(result.commit == commit)
            #expect(Set(result.downloaded) == ["config.json", "model.safetensors", "vocab.json", "merges.txt", "preprocessor_config.json"])
            #expect(result.reused.isEmpty)

            let dir = repoDir(cache)
            #expect(try String(contentsOf: dir.appendingPathComponent("refs/main"), encoding: .utf8) == commit)
            let snapshot = dir.appendingPathComponent("snapshots/\(commit)")
            for (name, bytes) in server.files {
                let link = snapshot.appendingPathComponent(name)
                let target = try fm.destinationOfSymbolicLink(atPath: link.path)
                #expect(target.hasPrefix("../../blobs/"), "\(name) -> \(target)")
                #expect(try Data(contentsOf: link) == bytes, "\(name)")
            }
            #expect(
                try fm.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("model.safetensors").path)
                    == "../../blobs/\(server.lfsSHA256)")
            #expect(!contents(dir.appendingPathComponent("blobs")).contains { $0.hasSuffix(".incomplete") })
            // Only the checkpoint files were fetched: no pytorch_model.bin, msgpack, README.
            let paths = server.requests.map(\.path)
            #expect(!paths.contains { $0.contains("pytorch_model.bin") || $0.contains("msgpack") || $0.contains("README") })
            // HEAD stops at the hub's absolute redirect (its headers carry the LFS hash and size);
            // the GET goes to the CDN. The relative redirect of vocab.json is followed by both.
            let requests = server.requests
            #expect(requests.contains { $0.method == "HEAD" && $0.path.hasSuffix("/resolve/\(commit)/model.safetensors") })
            #expect(!requests.contains { $0.method == "HEAD" && $0.path.hasPrefix("/cdn/") })
            #expect(requests.filter { $0.path == "/cdn/\(server.lfsSHA256)" }.map(\.method) == ["GET"])
            #expect(requests.filter { $0.path.hasPrefix("/renamed/") }.map(\.method).sorted() == ["GET", "HEAD"])
            // Progress ends each file with received == total.
            #expect(seen.finished == Set(server.files.keys))
            // Piped into a ProgressBar off a terminal: one line per file.
            let lines = ProgressLog()
            let bar = ProgressBar(isTerminal: false) { lines.text($0) }
            for (file, received, total) in seen.calls { bar.update(file: file, received: received, total: total) }
            #expect(lines.lines.count == server.files.count, "\(lines.lines)")

            let model = try ModelLocator(environment: ["HF_HUB_CACHE": cache.path]).resolve(repo)
            #expect(model.directory.standardizedFileURL.path == snapshot.standardizedFileURL.path)
            #expect(model.revision == commit)
            #expect(model == result.model)

            // A second pull asks only for the revision and downloads nothing.
            let before = server.requests.count
            let again = try await downloader(server, cache: cache).pull(repo)
            let after = server.requests.dropFirst(before)
            #expect(after.map(\.path) == ["/api/models/\(repo)/revision/main"])
            #expect(again.downloaded.isEmpty)
            #expect(again.bytesReceived == 0)
        }

        @Test func blobsPresentWithoutSnapshotAreNotFetchedAgain() async throws {
            let server = try LoopbackHubServer()
            defer { server.stop() }
            let cache = try tempCache()
            defer { try? fm.removeItem(at: cache) }
            _ = try await downloader(server, cache: cache).pull(repo)
            try fm.removeItem(at: repoDir(cache).appendingPathComponent("snapshots"))
            let before = server.requests.count
            let result = try await downloader(server, cache: cache).pull(repo)
            #expect(result.downloaded.isEmpty)
            #expect(server.requests.dropFirst(before).allSatisfy { $0.method != "GET" || $0.path.hasPrefix("/api/") })
            #expect(try ModelLocator(environment: ["HF_HUB_CACHE": cache.path]).resolve(repo).revision == commit)
        }

        func expectFailure(_ fault: LoopbackHubServer.Fault, mentioning fragments: [String]) async throws -> (URL, LoopbackHubServer) {
            let server = try LoopbackHubServer()
            server.fault = fault
            let cache = try tempCache()
            do {
                _ = try await downloader(server, cache: cache).pull(repo)
                Issue.record("expected \(fault) to fail")
            } catch let error as HubError {
                for f in fragments { #expect(error.description.contains(f), "\(error)") }
                #expect(!error.description.contains("\n"))
            }
            let dir = repoDir(cache)
            #expect(contents(dir.appendingPathComponent("snapshots")).isEmpty)
            #expect(!fm.fileExists(atPath: dir.appendingPathComponent("refs/main").path))
            #expect(!fm.fileExists(atPath: dir.appendingPathComponent("blobs/\(server.lfsSHA256)").path))
            return (cache, server)
        }

        @Test func wrongSizeIsRejected() async throws {
            let (cache, server) = try await expectFailure(.wrongSize, mentioning: ["model.safetensors", "bytes"])
            server.stop()
            defer { try? fm.removeItem(at: cache) }
            #expect(!contents(repoDir(cache).appendingPathComponent("blobs")).contains { $0.hasSuffix(".incomplete") })
        }

        @Test func corruptBodyIsRejected() async throws {
            let (cache, server) = try await expectFailure(.corruptBody, mentioning: ["model.safetensors", "SHA-256"])
            server.stop()
            defer { try? fm.removeItem(at: cache) }
            #expect(!contents(repoDir(cache).appendingPathComponent("blobs")).contains { $0.hasSuffix(".incomplete") })
        }

        @Test func connectionClosedMidBodyKeepsOnlyIncompleteAndResumes() async throws {
            let (cache, server) = try await expectFailure(.closeMidBody, mentioning: ["model.safetensors"])
            defer { server.stop(); try? fm.removeItem(at: cache) }
            let blobs = contents(repoDir(cache).appendingPathComponent("blobs"))
            #expect(blobs.filter { $0.hasPrefix(server.lfsSHA256) }.allSatisfy { $0.hasSuffix(".incomplete") })

            // The next pull against a healthy server resumes with a Range request.
            server.fault = .none
            let before = server.requests.count
            let result = try await downloader(server, cache: cache).pull(repo)
            let cdn = server.requests.dropFirst(before).filter { $0.path.hasPrefix("/cdn/") && $0.method == "GET" }
            #expect(blobs.contains("\(server.lfsSHA256).incomplete"))
            #expect(cdn.count == 1)
            let half = server.files["model.safetensors"]!.count / 2
            #expect(cdn.first?.headers["range"] == "bytes=\(half)-")
            #expect(result.downloaded.contains("model.safetensors"))
            let weights = try Data(contentsOf: result.model.files["model.safetensors"]!)
            #expect(weights == server.files["model.safetensors"])
        }

        @Test func unknownRepoIsOneLineError() async throws {
            let server = try LoopbackHubServer()
            defer { server.stop() }
            let cache = try tempCache()
            defer { try? fm.removeItem(at: cache) }
            do {
                _ = try await downloader(server, cache: cache).pull("nobody/nothing")
                Issue.record("expected an error")
            } catch let error as HubError {
                #expect(error.description.contains("nobody/nothing"))
                #expect(error.description.contains("404"))
                #expect(!error.description.contains("\n"))
            }
            #expect(contents(cache).isEmpty)
        }

        @Test func unreachableEndpointIsOneLineError() async throws {
            let cache = try tempCache()
            defer { try? fm.removeItem(at: cache) }
            // A port that was just free: nothing listens there.
            let server = try LoopbackHubServer()
            let endpoint = server.endpoint
            server.stop()
            let hub = HubDownloader(endpoint: endpoint, cacheDirectory: cache)
            await #expect { try await hub.pull(repo) } throws: { error in
                "\(error)".contains(repo) && !"\(error)".contains("\n")
            }
        }

        @Test func tokenIsSentToTheHub() async throws {
            let server = try LoopbackHubServer()
            defer { server.stop() }
            let cache = try tempCache()
            defer { try? fm.removeItem(at: cache) }
            let hub = HubDownloader(environment: [
                "HF_ENDPOINT": server.endpoint.absoluteString + "/",
                "HF_HUB_CACHE": cache.path, "HF_TOKEN": "hf_secret"
            ])
            _ = try await hub.pull(repo)
            #expect(server.requests.first?.headers["authorization"] == "Bearer hf_secret")
        }

        @Test func progressBarRendering() {
            let line = ProgressBar.render(file: "model.safetensors", received: 300_000_000, total: 600_000_000, elapsed: 10, width: 10)
            #expect(line == "model.safetensors  [#####-----]   50%  300.0 MB / 600.0 MB  30.0 MB/s")
            #expect(ProgressBar.formatBytes(999) == "999 B")
            #expect(ProgressBar.formatBytes(1_500) == "1.5 KB")

            let out = ProgressLog()
            let bar = ProgressBar(isTerminal: false) { out.text($0) }
            bar.update(file: "a", received: 5, total: 10)
            bar.update(file: "a", received: 10, total: 10)
            bar.update(file: "a", received: 10, total: 10)
            bar.update(file: "b", received: 3, total: 3)
            #expect(out.lines.count == 2)
            #expect(out.lines.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
        }
    }
}

/// Thread-safe record of progress callbacks and written text.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _finished: Set<String> = []
    private var _lines: [String] = []
    private var _calls: [(String, Int64, Int64?)] = []
    func add(_ file: String, _ received: Int64, _ total: Int64?) {
        lock.withLock {
            _calls.append((file, received, total))
            if total == received { _finished.insert(file) }
        }
    }
    var calls: [(String, Int64, Int64?)] { lock.withLock { _calls } }
    func text(_ s: String) { lock.withLock { _lines.append(s) } }
    var finished: Set<String> { lock.withLock { _finished } }
    var lines: [String] { lock.withLock { _lines } }
}
