import Foundation

/// SentencePiece's BPE segmentation (`bpe_model.cc`): start from characters (a user-defined
/// piece is one frozen symbol), then repeatedly merge the adjacent pair whose concatenation is a
/// piece with the highest score — ties to the leftmost — until no pair is a piece. Unlike
/// byte-level BPE with a merges file, the merge order is the pieces' scores. A merged piece of
/// type unused is split back into the two pieces it was made of, as the library does.
struct SentencePieceBPE: Sendable {
    private let ids: [[UInt8]: Int32]
    private let scores: [Float]
    private let types: [SentencePieceModel.PieceType]
    private let userDefined: PieceMatcher

    init(model: SentencePieceModel, ids: [[UInt8]: Int32], userDefined: PieceMatcher) {
        self.ids = ids
        scores = model.pieces.map(\.score)
        types = model.pieces.map(\.type)
        self.userDefined = userDefined
    }

    private struct Symbol {
        var prev: Int
        var next: Int
        var freeze: Bool
        var range: Range<Int>
    }

    private struct Pair {
        let left: Int, right: Int
        let score: Float
        let size: Int
        /// The library's priority: the higher score first, then the smaller left index.
        func precedes(_ other: Pair) -> Bool { score > other.score || (score == other.score && left < other.left) }
    }

    /// The pieces of `normalized` as (byte range, id); a segment that is no piece gets nil.
    func encode(_ normalized: [UInt8]) -> [(range: Range<Int>, id: Int32?)] {
        guard !normalized.isEmpty else { return [] }
        var symbols: [Symbol] = []
        normalized.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let rest = UnsafeBufferPointer(rebasing: all[start...])
                let matched = userDefined.longestMatch(rest)
                let length = matched ?? min(rest.count, SentencePieceNormalizer.oneCharLength(rest[0]))
                let index = symbols.count
                symbols.append(
                    Symbol(
                        prev: index - 1, next: start + length < all.count ? index + 1 : -1, freeze: matched != nil,
                        range: start..<(start + length)))
                start += length
            }
        }
        var heap: [Pair] = []
        var reverseMerge: [[UInt8]: (Range<Int>, Range<Int>)] = [:]
        func push(_ p: Pair) {
            heap.append(p)
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard heap[i].precedes(heap[parent]) else { break }
                heap.swapAt(i, parent)
                i = parent
            }
        }
        func pop() -> Pair? {
            guard let top = heap.first else { return nil }
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < heap.count && heap[l].precedes(heap[m]) { m = l }
                    if r < heap.count && heap[r].precedes(heap[m]) { m = r }
                    if m == i { break }
                    heap.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
        func addPair(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, !symbols[left].freeze, !symbols[right].freeze else { return }
            let range = symbols[left].range.lowerBound..<symbols[right].range.upperBound
            let piece = Array(normalized[range])
            guard let id = ids[piece] else { return }
            push(Pair(left: left, right: right, score: scores[Int(id)], size: range.count))
            if types[Int(id)] == .unused { reverseMerge[piece] = (symbols[left].range, symbols[right].range) }
        }
        for i in 1..<symbols.count { addPair(i - 1, i) }
        while let top = pop() {
            let left = symbols[top.left], right = symbols[top.right]
            // A pair whose symbols changed since it was queued is stale.
            guard !left.range.isEmpty, !right.range.isEmpty, left.range.count + right.range.count == top.size else { continue }
            symbols[top.left].range = left.range.lowerBound..<right.range.upperBound
            symbols[top.left].next = right.next
            if right.next >= 0 { symbols[right.next].prev = top.left }
            symbols[top.right].range = right.range.upperBound..<right.range.upperBound
            addPair(symbols[top.left].prev, top.left)
            addPair(top.left, symbols[top.left].next)
        }
        var result: [(range: Range<Int>, id: Int32?)] = []
        func resegment(_ range: Range<Int>) {
            let piece = Array(normalized[range])
            guard let id = ids[piece] else {
                result.append((range, nil))
                return
            }
            if types[Int(id)] == .unused, let (l, r) = reverseMerge[piece] {
                resegment(l)
                resegment(r)
                return
            }
            result.append((range, id))
        }
        var index = 0
        while index != -1 {
            resegment(symbols[index].range)
            index = symbols[index].next
        }
        return result
    }
}
