import CLIPEngine
import Foundation

/// How a run is carried out (the `clip-audit run` flags).
public struct RunOptions: Sendable {
    /// The report folder; default `Reports/<name>` under the current directory. Checked before
    /// anything is encoded (see ``ReportWriter/checkFolder(_:for:)``); a shard writes none.
    public var outputDirectory: URL?
    /// Overrides the audit file's `model:`.
    public var model: String?
    /// The embedding cache file; nil with `useCache` means the default location.
    public var cacheURL: URL?
    /// `--no-cache` sets this to false.
    public var useCache: Bool = true
    /// Further caches read (never written) after `cacheURL`: the shard caches of a final run.
    public var extraCacheURLs: [URL] = []
    /// `--cached-only`: every image and prompt must come from the cache(s); a miss is an error
    /// instead of an encoder pass (the final run over shard caches: a missing shard must not
    /// turn into one node encoding everything).
    public var cachedOnly: Bool = false
    /// Overrides `manifest.limit` (first N rows only).
    public var limit: Int?
    /// `--shard K/N`: this process encodes only its share of the images (K is 1-based).
    public var shard: Shard?
    /// Threads for encoding and decoding.
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Images per encoder batch.
    public var batchSize: Int = 16
    /// `--strict`: any skipped row is fatal.
    public var strict: Bool = false
    /// Images whose header claims more pixels than this are refused before decoding.
    public var maxPixels: Int = ImageDecoder.defaultMaxPixels
    /// The environment (for model resolution and the default cache).
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Lock the report folder (and each model's folder) from the check before encoding until
    /// the run's result is dropped (``AuditRun/outputLocks``), so that a second clip-audit
    /// process writing there stops with one line instead of mixing its report with this one.
    /// `clip-audit run` sets it; the folder is then created at the start of the run.
    public var lockOutputFolder: Bool = false

    public init() {}
}
