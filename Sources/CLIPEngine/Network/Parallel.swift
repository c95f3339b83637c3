import CClipKernels
import CClipOpenBLAS
import Dispatch
import Foundation

/// The threads the encoders compute on, and the loop that spreads a forward pass's work over
/// them.
///
/// The encoders parallelise themselves: each product is split by rows (or, for a handful of rows,
/// by output columns) into one part per thread, and each part calls OpenBLAS single-threaded.
/// So OpenBLAS's own thread pool is switched off (`openblas_set_num_threads(1)`) and the process
/// computes on exactly `threads` threads — not `threads` of ours each fanning out to OpenBLAS's.
/// Splitting ourselves also lets the element-wise work (bias, LayerNorm, activation, softmax)
/// and the per-head attention products run on every thread between two products, without a
/// hand-off to OpenBLAS's pool for each of the thousands of small per-head calls.
enum Parallel {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var configured = 0

    /// OpenBLAS single-threaded, once per process, before the first product.
    private static let blasSingleThreaded: Void = { openblas_set_num_threads(1) }()

    /// The threads a forward pass uses (default: the active processor count).
    static var threads: Int {
        get {
            _ = blasSingleThreaded
            lock.lock(); defer { lock.unlock() }
            return configured > 0 ? configured : ProcessInfo.processInfo.activeProcessorCount
        }
        set {
            _ = blasSingleThreaded
            lock.lock(); defer { lock.unlock() }
            configured = max(1, newValue)
        }
    }

    /// Runs `body(0..<tasks)`, in parallel when `tasks > 1` (at most one task per thread: the
    /// caller passes `tasks ≤ threads`), and returns when all are done. The tasks must touch
    /// disjoint memory (each writes its own rows); that is what makes handing `body` to several
    /// threads sound, so it is not required to be `@Sendable`.
    static func run(_ tasks: Int, _ body: (Int) -> Void) {
        if tasks <= 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = unsafeBitCast(body, to: (@Sendable (Int) -> Void).self)
            DispatchQueue.concurrentPerform(iterations: tasks, execute: shared)
        }
    }

    /// Runs `body(chunk, worker)` for every chunk in 0..<chunks on `workers` threads, each worker
    /// claiming the next unclaimed chunk until none is left, so a worker slowed down by another
    /// process on the machine takes fewer chunks instead of holding the others up at the end.
    /// `worker` (0..<workers) indexes per-thread scratch. Same rule as `run`: chunks write
    /// disjoint memory.
    static func claim(_ chunks: Int, workers: Int, _ body: (_ chunk: Int, _ worker: Int) -> Void) {
        let workers = max(1, min(workers, chunks))
        if workers == 1 {
            for chunk in 0..<chunks { body(chunk, 0) }
            return
        }
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: 0)
        defer { counter.deallocate() }
        let next = SendablePointer(counter)
        run(workers) { worker in
            while true {
                let chunk = clip_fetch_add(next.value, 1)
                if chunk >= chunks { break }
                body(chunk, worker)
            }
        }
    }

    /// How many row chunks to cut `rows` rows into for `threads` threads: about 192 rows each (a
    /// packed product's 96-row blocks, twice) and a multiple of `threads`, so that claiming
    /// keeps the threads even; for a few rows, one chunk per thread (of at least 16 rows). The
    /// products give every row the same bits whatever chunk it is in, so this only decides speed.
    static func rowChunks(_ rows: Int, threads: Int) -> Int {
        let perThread = Int((Double(rows) / Double(192 * threads)).rounded())
        return max(1, min(rows / 16, threads * max(1, perThread)))
    }

    /// Part `index` of `total` items split into `parts` contiguous, nearly equal ranges.
    static func part(_ index: Int, of parts: Int, total: Int) -> Range<Int> {
        let base = total / parts, extra = total % parts
        let start = index * base + min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }
}
