import Foundation

extension ReportFolder.PredictionLine {
    /// A line of `predictions.csv` (header `design,file,<attributes>,truth,predicted,confidence,
    /// harm_category`, checked already); text cells restored as ``CSVWriter/restore(_:)`` does.
    init(fields: [String], attributes: [String]) {
        let k = attributes.count
        var groups: [String: String] = [:]
        for (i, a) in attributes.enumerated() { groups[a] = CSVWriter.restore(fields[2 + i]) }
        let truth = CSVWriter.restore(fields[2 + k]), harm = CSVWriter.restore(fields[5 + k])
        self.init(
            design: CSVWriter.restore(fields[0]), file: CSVWriter.restore(fields[1]), groups: groups,
            truth: truth.isEmpty ? nil : truth, predicted: CSVWriter.restore(fields[3 + k]),
            harmCategory: harm.isEmpty ? nil : harm)
    }
}

/// Two designs' rows (of one report folder, or of two) side by side, by file, in memory that does
/// not grow with the files: what `card` needs for a variant and its base, and `diff` for a design
/// in run A and in run B.
///
/// Both blocks list their images in manifest order, so for the same manifest the files line up
/// and one pass over each block, line by line, pairs them. Where they stop lining up (other
/// manifests, other rows skipped), the files are paired by hash partitions instead: each pass
/// keeps at most about ``partitionRows`` of block A's lines, the ones whose file falls in its
/// partition, and reads block B for them. A file listed twice in a block counts once (its first
/// line) when the blocks do not line up.
enum PredictionJoin {
    /// Block A's lines kept at once when the blocks do not line up (a few hundred bytes each).
    static let partitionRows = 100_000

    /// Calls `visit` once per file with its line in block `a` and in block `b` (nil where the
    /// block has no line for it), accumulating into `state`.
    static func join<State>(
        _ a: PredictionBlock, _ b: PredictionBlock, into state: inout State,
        _ visit: (inout State, ReportFolder.PredictionLine?, ReportFolder.PredictionLine?) -> Void
    ) throws {
        let initial = state
        var left = try PredictionBlock.Reader(a), right = try PredictionBlock.Reader(b)
        while true {
            switch (try left.next(), try right.next()) {
            case (nil, nil):
                return
            case let (x?, y?) where x.file == y.file:
                visit(&state, x, y)
            case let (x?, nil):
                visit(&state, x, nil)
            case let (nil, y?):
                visit(&state, nil, y)
            default:
                // Not in the same order: start again, by partitions.
                state = initial
                try partitioned(a, b, into: &state, visit)
                return
            }
        }
    }

    private static func partitioned<State>(
        _ a: PredictionBlock, _ b: PredictionBlock, into state: inout State,
        _ visit: (inout State, ReportFolder.PredictionLine?, ReportFolder.PredictionLine?) -> Void
    ) throws {
        let partitions = max(1, (max(a.count, b.count) + partitionRows - 1) / partitionRows)
        func partition(_ file: String) -> Int {
            var hasher = Hasher()
            hasher.combine(file)
            return Int(UInt(bitPattern: hasher.finalize()) % UInt(partitions))
        }
        for p in 0..<partitions {
            var lines: [String: (line: ReportFolder.PredictionLine, matched: Bool)] = [:]
            var left = try PredictionBlock.Reader(a)
            while let x = try left.next() {
                if partition(x.file) == p, lines[x.file] == nil { lines[x.file] = (x, false) }
            }
            var seen = Set<String>()
            var right = try PredictionBlock.Reader(b)
            while let y = try right.next() {
                guard partition(y.file) == p, seen.insert(y.file).inserted else { continue }
                if let x = lines[y.file] {
                    lines[y.file]?.matched = true
                    visit(&state, x.line, y)
                } else {
                    visit(&state, nil, y)
                }
            }
            for (_, x) in lines where !x.matched { visit(&state, x.line, nil) }
        }
    }
}
