import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The checkpoint formats clip-audit reads (README, "Checkpoint formats").
public enum CheckpointFormat: String, Sendable, Equatable, CaseIterable {
    /// transformers: `config.json`, `model.safetensors`, `vocab.json`, `merges.txt`.
    case huggingFaceSafetensors = "Hugging Face transformers (safetensors)"
    /// transformers with `pytorch_model.bin` (a `torch.save` zip) instead of `model.safetensors`.
    case huggingFacePyTorch = "Hugging Face transformers (pytorch_model.bin)"
    /// `open_clip_config.json` + `open_clip_model.safetensors` or `open_clip_pytorch_model.bin`.
    case openCLIP = "OpenCLIP"
    /// OpenAI's TorchScript archive (`ViT-B-16.pt`, what `clip.load` downloads).
    case openAI = "OpenAI TorchScript"
    /// transformers SigLIP (`model_type: siglip`): `config.json`, `model.safetensors` (or
    /// `pytorch_model.bin`), `spiece.model` (SigLIP) or `tokenizer.model` (SigLIP 2).
    case siglip = "Hugging Face transformers, SigLIP"

    /// The reference implementation whose numerics this format follows.
    public var reference: String {
        switch self {
        case .huggingFaceSafetensors, .huggingFacePyTorch:
            return "transformers CLIPModel + slow CLIPImageProcessor (Pillow)"
        case .openCLIP:
            return "open_clip (create_model_and_transforms, its tokenizer and preprocess)"
        case .openAI:
            return "OpenAI clip (clip.load(..., jit=False), its tokenizer and transform)"
        case .siglip:
            return "transformers SiglipModel + SiglipProcessor (slow SentencePiece tokenizer, Pillow image processor); scores are sigmoids"
        }
    }
}

/// A checkpoint that a model reference resolved to.
public struct ResolvedModel: Sendable, Equatable {
    /// The repo id (`openai/clip-vit-base-patch16`) or the directory path, as the user gave it.
    public var id: String
    /// The checkpoint directory: the user's directory, or the cache snapshot `snapshots/REV/`.
    public var directory: URL
    /// The snapshot's commit, when the model came from the Hugging Face cache.
    public var revision: String?
    /// The checkpoint's files by name (`config.json`, `model.safetensors`, ...), symlinks
    /// followed: these are the real files (the blobs, for a cache snapshot).
    public var files: [String: URL]
    /// The checkpoint's format.
    public var format: CheckpointFormat = .huggingFaceSafetensors
    /// The name (a key of `files`) of the weights file.
    public var weightsName = "model.safetensors"

    public init(
        id: String, directory: URL, revision: String?, files: [String: URL],
        format: CheckpointFormat = .huggingFaceSafetensors, weightsName: String = "model.safetensors"
    ) {
        self.id = id
        self.directory = directory
        self.revision = revision
        self.files = files
        self.format = format
        self.weightsName = weightsName
    }

    /// The weights file (symlinks followed).
    public var weightsURL: URL { files[weightsName] ?? directory.appendingPathComponent(weightsName) }
}

/// A model reference that could not be resolved. The description is one line that says what
/// was tried.
public struct ModelLocatorError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// Resolves a model reference (`M` on the command line, `model:` in the audit file) to a
/// checkpoint directory: a directory path, or a repo id found in the local Hugging Face cache.
public struct ModelLocator: Sendable {
    /// The model used when neither an argument nor `CLIP_AUDIT_MODEL` names one.
    public static let defaultModel = "openai/clip-vit-base-patch16"
    /// Files a transformers safetensors checkpoint must have (other formats: `checkpoint(in:)`).
    public static let requiredFiles = ["config.json", "model.safetensors", "vocab.json", "merges.txt"]
    /// Files used when present.
    public static let optionalFiles = ["preprocessor_config.json"]

    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The reference used when none is given: `CLIP_AUDIT_MODEL`, else `openai/clip-vit-base-patch16`.
    public var defaultReference: String {
        if let env = environment["CLIP_AUDIT_MODEL"], !env.trimmingCharacters(in: .whitespaces).isEmpty {
            return env
        }
        return Self.defaultModel
    }

    /// The Hugging Face hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (as huggingface_hub does).
    public var hubCacheDirectory: URL {
        if let v = nonEmpty("HF_HUB_CACHE") ?? nonEmpty("HUGGINGFACE_HUB_CACHE") {
            return URL(fileURLWithPath: expandTilde(v), isDirectory: true)
        }
        if let home = nonEmpty("HF_HOME") {
            return URL(fileURLWithPath: expandTilde(home), isDirectory: true).appendingPathComponent("hub", isDirectory: true)
        }
        let cacheRoot = nonEmpty("XDG_CACHE_HOME").map(expandTilde) ?? (homeDirectory + "/.cache")
        return URL(fileURLWithPath: cacheRoot, isDirectory: true)
            .appendingPathComponent("huggingface", isDirectory: true)
            .appendingPathComponent("hub", isDirectory: true)
    }

    /// The cache folder of a repo: `models--ORG--NAME`.
    public func repoCacheDirectory(for repoID: String) -> URL {
        hubCacheDirectory.appendingPathComponent(
            "models--" + repoID.replacingOccurrences(of: "/", with: "--"),
            isDirectory: true)
    }

    /// Resolves `reference` (nil or empty: the default reference).
    ///
    /// An existing directory wins; otherwise a repo id (`ORG/NAME`, optionally `@REVISION`) is
    /// looked up in the cache, using `refs/main` (or the named ref or commit) to pick the snapshot,
    /// else the only or newest snapshot.
    public func resolve(_ reference: String? = nil) throws -> ResolvedModel {
        var ref = reference?.trimmingCharacters(in: .whitespaces) ?? ""
        if ref.isEmpty { ref = defaultReference }
        let path = expandTilde(ref)

        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                // A single file is OpenAI's TorchScript archive (`ViT-B-16.pt`), the whole checkpoint.
                let url = URL(fileURLWithPath: path)
                guard url.pathExtension == "pt" else {
                    throw ModelLocatorError(
                        message:
                            "model \"\(ref)\" is a file, not a checkpoint directory (expected a directory holding \(Self.requiredFiles.joined(separator: ", ")), or an OpenAI .pt archive)"
                    )
                }
                return ResolvedModel(
                    id: ref, directory: url.deletingLastPathComponent(), revision: nil,
                    files: [url.lastPathComponent: Self.realPath(url)], format: .openAI,
                    weightsName: url.lastPathComponent)
            }
            let dir = URL(fileURLWithPath: path, isDirectory: true)
            let found = Self.checkpoint(in: dir)
            guard found.missing.isEmpty else {
                throw ModelLocatorError(
                    message: "model directory \(path) is not a CLIP checkpoint: missing \(found.missing.joined(separator: ", "))")
            }
            return ResolvedModel(
                id: ref, directory: dir, revision: nil, files: found.files, format: found.format,
                weightsName: found.weightsName)
        }

        let (repoID, requested) = Self.splitRevision(ref)
        let cache = hubCacheDirectory
        let pullHint = "(run: clip-audit model pull \(repoID))"
        guard Self.isRepoID(repoID) else {
            throw ModelLocatorError(message: "model \"\(ref)\" not found: no directory of that name, and it is not a repo id (ORG/NAME)")
        }
        let repoDir = repoCacheDirectory(for: repoID)
        let snapshots = repoDir.appendingPathComponent("snapshots", isDirectory: true)
        let available = ((try? FileManager.default.contentsOfDirectory(atPath: snapshots.path)) ?? [])
            .filter { !$0.hasPrefix(".") }
        guard !available.isEmpty else {
            throw ModelLocatorError(
                message:
                    "model \"\(ref)\" not found: no directory of that name, and not in the Hugging Face cache at \(cache.path) \(pullHint)")
        }

        let revision: String
        if let commit = readRef(repoDir, requested ?? "main"), available.contains(commit) {
            revision = commit
        } else if let requested {
            // A commit hash (or a prefix of one) given directly.
            let matches = available.filter { $0 == requested || (requested.count >= 7 && $0.hasPrefix(requested)) }
            guard matches.count == 1 else {
                throw ModelLocatorError(
                    message:
                        "model \"\(ref)\": revision \"\(requested)\" is not in the Hugging Face cache at \(cache.path) (snapshots: \(available.sorted().joined(separator: ", ")))"
                )
            }
            revision = matches[0]
        } else if available.count == 1 {
            revision = available[0]
        } else {
            revision = newest(available, in: snapshots)
        }

        let dir = snapshots.appendingPathComponent(revision, isDirectory: true)
        let found = Self.checkpoint(in: dir)
        guard found.missing.isEmpty else {
            throw ModelLocatorError(
                message:
                    "model \"\(repoID)\" in the Hugging Face cache is incomplete: snapshot \(dir.path) lacks \(found.missing.joined(separator: ", ")) \(pullHint)"
            )
        }
        return ResolvedModel(
            id: repoID, directory: dir, revision: revision, files: found.files, format: found.format,
            weightsName: found.weightsName)
    }

    // MARK: - Helpers

    /// What a checkpoint directory holds: its format, files (symlinks followed), weights file,
    /// and the files its format still lacks.
    ///
    /// `open_clip_config.json` makes it OpenCLIP (weights `open_clip_model.safetensors`, else
    /// `open_clip_pytorch_model.bin`, else the one `.safetensors`/`.bin`/`.pt` beside it);
    /// otherwise `config.json` makes it transformers (`model.safetensors`, else
    /// `pytorch_model.bin`); otherwise a folder whose only weights file is one `.pt` is OpenAI's.
    static func checkpoint(in dir: URL) -> (format: CheckpointFormat, files: [String: URL], weightsName: String, missing: [String]) {
        func isFile(_ name: String) -> Bool {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDir) && !isDir.boolValue
        }
        let listing = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter(isFile).sorted()
        func weights(_ extensions: [String]) -> [String] {
            listing.filter { name in extensions.contains { name.hasSuffix("." + $0) } }
        }
        if isFile("open_clip_config.json") {
            var files = ["open_clip_config.json": realPath(dir.appendingPathComponent("open_clip_config.json"))]
            let candidates = ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"].filter(isFile)
            let others = weights(["safetensors", "bin", "pt"])
            guard let name = candidates.first ?? (others.count == 1 ? others[0] : nil) else {
                return (
                    .openCLIP, files, "open_clip_model.safetensors",
                    [
                        others.isEmpty
                            ? "open_clip_model.safetensors (or open_clip_pytorch_model.bin)"
                            : "open_clip_model.safetensors (found several weights files: \(others.joined(separator: ", ")))"
                    ]
                )
            }
            files[name] = realPath(dir.appendingPathComponent(name))
            return (.openCLIP, files, name, [])
        }
        if !isFile("config.json"), !isFile("model.safetensors"), !isFile("pytorch_model.bin") {
            let archives = weights(["pt"])
            if archives.count == 1 {
                return (.openAI, [archives[0]: realPath(dir.appendingPathComponent(archives[0]))], archives[0], [])
            }
        }
        let hasSafetensors = isFile("model.safetensors")
        let weightsName = hasSafetensors || !isFile("pytorch_model.bin") ? "model.safetensors" : "pytorch_model.bin"
        if isFile("config.json"), SiglipConfiguration.isSiglip(dir.appendingPathComponent("config.json")) {
            // SigLIP's SentencePiece model instead of vocab.json and merges.txt: spiece.model
            // (SigLIP) or tokenizer.model (SigLIP 2, Gemma's).
            var files: [String: URL] = [:]
            var missing: [String] = []
            for name in ["config.json", weightsName] {
                if isFile(name) { files[name] = realPath(dir.appendingPathComponent(name)) } else { missing.append(name) }
            }
            let tokenizers = SiglipTokenizerFiles.modelNames.filter(isFile)
            if tokenizers.isEmpty {
                missing.append(SiglipTokenizerFiles.modelNames.joined(separator: " or "))
            }
            for name in tokenizers + SiglipTokenizerFiles.optionalNames where isFile(name) {
                files[name] = realPath(dir.appendingPathComponent(name))
            }
            return (.siglip, files, weightsName, missing)
        }
        var files: [String: URL] = [:]
        var missing: [String] = []
        for name in ["config.json", weightsName, "vocab.json", "merges.txt"] + optionalFiles {
            if isFile(name) {
                files[name] = realPath(dir.appendingPathComponent(name))
            } else if !optionalFiles.contains(name) {
                missing.append(name)
            }
        }
        return (weightsName == "model.safetensors" ? .huggingFaceSafetensors : .huggingFacePyTorch, files, weightsName, missing)
    }

    /// The checkpoint files present in `dir` (symlinks followed; a dangling link counts as
    /// missing) and the required ones that are missing.
    static func checkpointFiles(in dir: URL) -> (files: [String: URL], missing: [String]) {
        var files: [String: URL] = [:]
        var missing: [String] = []
        for name in requiredFiles + optionalFiles {
            let url = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
                files[name] = realPath(url)
            } else if requiredFiles.contains(name) {
                missing.append(name)
            }
        }
        return (files, missing)
    }

    /// The file a path names, with every symlink followed.
    static func realPath(_ url: URL) -> URL {
        guard let resolved = realpath(url.path, nil) else { return url }
        defer { free(resolved) }
        return URL(fileURLWithPath: String(cString: resolved))
    }

    /// Splits `ORG/NAME@REV` into the repo id and the revision.
    static func splitRevision(_ ref: String) -> (String, String?) {
        guard let at = ref.lastIndex(of: "@") else { return (ref, nil) }
        let rev = String(ref[ref.index(after: at)...])
        return (String(ref[..<at]), rev.isEmpty ? nil : rev)
    }

    /// Whether `s` is a Hugging Face repo id: `NAME` or `ORG/NAME`, each part letters, digits,
    /// `-`, `_`, `.`, not starting with `.` or `-`, no `..` or `--`.
    static func isRepoID(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !s.contains(".."), !s.contains("--") else { return false }
        return parts.allSatisfy { part in
            guard let first = part.first, first != ".", first != "-", part.count <= 96 else { return false }
            return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }
    }

    private func readRef(_ repoDir: URL, _ name: String) -> String? {
        guard !name.contains("..") else { return nil }
        let url = repoDir.appendingPathComponent("refs").appendingPathComponent(name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }

    private func newest(_ names: [String], in dir: URL) -> String {
        func mtime(_ name: String) -> Date {
            let attrs = try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)
            return (attrs?[.modificationDate] as? Date) ?? .distantPast
        }
        return names.max { (mtime($0), $0) < (mtime($1), $1) }!
    }

    private func nonEmpty(_ key: String) -> String? {
        guard let v = environment[key], !v.isEmpty else { return nil }
        return v
    }

    private var homeDirectory: String {
        nonEmpty("HOME") ?? NSHomeDirectory()
    }

    private func expandTilde(_ path: String) -> String {
        if path == "~" { return homeDirectory }
        if path.hasPrefix("~/") { return homeDirectory + path.dropFirst(1) }
        return path
    }
}
