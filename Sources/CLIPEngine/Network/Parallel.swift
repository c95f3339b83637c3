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

    /// Part `index` of `total` items split into `parts` contiguous, nearly equal ranges.
    static func part(_ index: Int, of parts: Int, total: Int) -> Range<Int> {
        let base = total / parts, extra = total % parts
        let start = index * base + min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }
}
