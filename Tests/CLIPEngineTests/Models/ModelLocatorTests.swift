import Foundation
import Testing

@testable import CLIPEngine

extension Models {
    @Suite struct ModelLocatorTests {
        let fm = FileManager.default

        func tempDir() throws -> URL {
            let url = fm.temporaryDirectory.appendingPathComponent("locator-\(UUID().uuidString)", isDirectory: true)
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        /// A cache snapshot `models--ORG--NAME/snapshots/REV` whose files are symlinks into blobs/.
        @discardableResult
        func makeSnapshot(cache: URL, repo: String, revision: String, skip: Set<String> = []) throws -> URL {
            let repoDir = cache.appendingPathComponent("models--" + repo.replacingOccurrences(of: "/", with: "--"))
            let blobs = repoDir.appendingPathComponent("blobs")
            let snap = repoDir.appendingPathComponent("snapshots/\(revision)")
            try fm.createDirectory(at: blobs, withIntermediateDirectories: true)
            try fm.createDirectory(at: snap, withIntermediateDirectories: true)
            for name in ModelLocator.requiredFiles where !skip.contains(name) {
                let blob = "\(revision)-\(name)"
                try Data(name.utf8).write(to: blobs.appendingPathComponent(blob))
                try fm.createSymbolicLink(atPath: snap.appendingPathComponent(name).path, withDestinationPath: "../../blobs/\(blob)")
            }
            return snap
        }

        @Test func fixtureDirectoryResolves() throws {
            let dir = LoopbackHubServer.tinyClip
            let model = try ModelLocator(environment: [:]).resolve(dir.path)
            #expect(model.id == dir.path)
            #expect(model.revision == nil)
            #expect(Set(model.files.keys) == Set(ModelLocator.requiredFiles + ["preprocessor_config.json"]))
        }

        @Test func directoryWithMissingFileNamesIt() throws {
            let dir = try tempDir()
            defer { try? fm.removeItem(at: dir) }
            for name in ["config.json", "vocab.json", "merges.txt"] { try Data("{}".utf8).write(to: dir.appendingPathComponent(name)) }
            do {
                _ = try ModelLocator(environment: [:]).resolve(dir.path)
                Issue.record("expected an error")
            } catch let error as ModelLocatorError {
                #expect(error.description.contains("model.safetensors"))
                #expect(!error.description.contains("vocab.json"))
                #expect(!error.description.contains("\n"))
            }
        }

        @Test func cachePrecedence() throws {
            let root = try tempDir()
            defer { try? fm.removeItem(at: root) }
            let hubCache = root.appendingPathComponent("hubcache")
            let hfHome = root.appendingPathComponent("hfhome")
            let home = root.appendingPathComponent("home")
            try makeSnapshot(cache: hubCache, repo: "org/a", revision: "aaa")
            try makeSnapshot(cache: hfHome.appendingPathComponent("hub"), repo: "org/a", revision: "bbb")
            try makeSnapshot(cache: home.appendingPathComponent(".cache/huggingface/hub"), repo: "org/a", revision: "ccc")

            let all = ["HF_HUB_CACHE": hubCache.path, "HF_HOME": hfHome.path, "HOME": home.path]
            #expect(try ModelLocator(environment: all).resolve("org/a").revision == "aaa")
            #expect(try ModelLocator(environment: ["HF_HOME": hfHome.path, "HOME": home.path]).resolve("org/a").revision == "bbb")
            #expect(try ModelLocator(environment: ["HOME": home.path]).resolve("org/a").revision == "ccc")
            #expect(ModelLocator(environment: ["HF_HOME": "~/x", "HOME": "/h"]).hubCacheDirectory.path == "/h/x/hub")

            let model = try ModelLocator(environment: all).resolve("org/a")
            #expect(model.id == "org/a")
            // Symlinks are followed to the blobs.
            #expect(model.files["config.json"]!.path.contains("/blobs/aaa-config.json"))
            #expect(try String(contentsOf: model.files["config.json"]!, encoding: .utf8) == "config.json")
        }

        @Test func defaultModelAndEnvironmentOverride() throws {
            let root = try tempDir()
            defer { try? fm.removeItem(at: root) }
            try makeSnapshot(cache: root, repo: "org/custom", revision: "r1")
            try makeSnapshot(cache: root, repo: "openai/clip-vit-base-patch16", revision: "r2")
            #expect(ModelLocator(environment: [:]).defaultReference == "openai/clip-vit-base-patch16")
            #expect(try ModelLocator(environment: ["HF_HUB_CACHE": root.path]).resolve().id == "openai/clip-vit-base-patch16")
            let env = ["HF_HUB_CACHE": root.path, "CLIP_AUDIT_MODEL": "org/custom"]
            #expect(try ModelLocator(environment: env).resolve(nil).id == "org/custom")
            #expect(try ModelLocator(environment: env).resolve("").id == "org/custom")
            #expect(try ModelLocator(environment: env).resolve("openai/clip-vit-base-patch16").revision == "r2")
        }

        @Test func refsMainSelectsAmongSnapshots() throws {
            let root = try tempDir()
            defer { try? fm.removeItem(at: root) }
            try makeSnapshot(cache: root, repo: "org/m", revision: "old1111")
            try makeSnapshot(cache: root, repo: "org/m", revision: "new2222")
            let refs = root.appendingPathComponent("models--org--m/refs")
            try fm.createDirectory(at: refs, withIntermediateDirectories: true)
            // Make "new2222" the newest so refs/main has to override the mtime rule.
            try fm.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -3600)],
                ofItemAtPath: root.appendingPathComponent("models--org--m/snapshots/old1111").path)
            let env = ["HF_HUB_CACHE": root.path]
            #expect(try ModelLocator(environment: env).resolve("org/m").revision == "new2222")
            try Data("old1111\n".utf8).write(to: refs.appendingPathComponent("main"))
            #expect(try ModelLocator(environment: env).resolve("org/m").revision == "old1111")
            #expect(try ModelLocator(environment: env).resolve("org/m@new2222").revision == "new2222")
        }

        @Test func notFoundErrorSaysWhatWasTried() throws {
            let root = try tempDir()
            defer { try? fm.removeItem(at: root) }
            do {
                _ = try ModelLocator(environment: ["HF_HUB_CACHE": root.path]).resolve("openai/clip-vit-base-patch16")
                Issue.record("expected an error")
            } catch let error as ModelLocatorError {
                #expect(
                    error.description
                        == "model \"openai/clip-vit-base-patch16\" not found: no directory of that name, and not in the Hugging Face cache at \(root.path) (run: clip-audit model pull openai/clip-vit-base-patch16)"
                )
            }
        }

        @Test func incompleteSnapshotNamesTheMissingFile() throws {
            let root = try tempDir()
            defer { try? fm.removeItem(at: root) }
            try makeSnapshot(cache: root, repo: "org/x", revision: "r", skip: ["merges.txt"])
            #expect { try ModelLocator(environment: ["HF_HUB_CACHE": root.path]).resolve("org/x") } throws: { error in
                "\(error)".contains("merges.txt") && "\(error)".contains("model pull org/x")
            }
        }
    }
}
