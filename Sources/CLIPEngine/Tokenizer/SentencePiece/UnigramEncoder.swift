import Foundation

/// SentencePiece's unigram segmentation (`unigram_model.cc`, `EncodeOptimized`, the library's
/// default encoder): the Viterbi path over every piece that starts at each character, scores
/// summed in `float` as the library sums them; a character no piece starts with becomes the
/// unknown piece at `min_score − 10` (the library's `kUnkPenalty`); a user-defined piece scores
/// `length × max_score − 0.1`, so it is always taken. Ties keep the first path found.
struct UnigramEncoder: Sendable {
    /// Pieces the lattice may use (normal, user-defined, unused), by their UTF-8 bytes.
    private let ids: [[UInt8]: Int32]
    private let longestPiece: Int
    private let scores: [Float]
    private let types: [SentencePieceModel.PieceType]
    private let unknownID: Int32
    private let minScore: Float
    private let maxScore: Float

    init(model: SentencePieceModel, ids: [[UInt8]: Int32], unknownID: Int32) {
        self.ids = ids
        longestPiece = ids.keys.map(\.count).max() ?? 0
        scores = model.pieces.map(\.score)
        types = model.pieces.map(\.type)
        self.unknownID = unknownID
        let normal = model.pieces.filter { $0.type == .normal }.map(\.score)
        // FLT_MAX and FLT_MIN, as the library starts them, when there is no normal piece.
        minScore = normal.min() ?? Float.greatestFiniteMagnitude
        maxScore = normal.max() ?? Float.leastNormalMagnitude
    }

    /// The pieces of `normalized` as (byte range, id); unknown characters get `unknownID`.
    func encode(_ normalized: [UInt8]) -> [(range: Range<Int>, id: Int32)] {
        let size = normalized.count
        guard size > 0 else { return [] }
        struct Node {
            var id: Int32 = -1
            var score: Float = 0
            var startsAt = -1
        }
        let unknownScore = minScore - 10
        var best = [Node](repeating: Node(), count: size + 1)
        var start = 0
        var key: [UInt8] = []
        key.reserveCapacity(longestPiece)
        while start < size {
            let scoreHere = best[start].score
            var hasSingleNode = false
            let characterLength = min(SentencePieceNormalizer.oneCharLength(normalized[start]), size - start)
            key.removeAll(keepingCapacity: true)
            var end = start
            while end < size && end - start < longestPiece {
                key.append(normalized[end])
                end += 1
                guard let id = ids[key] else { continue }
                let type = types[Int(id)]
                if type == .unused { continue }
                let length = end - start
                if type == .userDefined {
                    // The library computes this bonus in double (`length * max_score_ - 0.1`)
                    // and adds the float path score in double before storing a float.
                    let candidate = Double(Float(length) * maxScore) - 0.1 + Double(scoreHere)
                    if best[end].startsAt == -1 || candidate > Double(best[end].score) {
                        best[end] = Node(id: id, score: Float(candidate), startsAt: start)
                    }
                } else {
                    let candidate = scores[Int(id)] + scoreHere
                    if best[end].startsAt == -1 || candidate > best[end].score {
                        best[end] = Node(id: id, score: candidate, startsAt: start)
                    }
                }
                if length == characterLength { hasSingleNode = true }
            }
            if !hasSingleNode {
                let candidate = unknownScore + scoreHere
                let target = start + characterLength
                if best[target].startsAt == -1 || candidate > best[target].score {
                    best[target] = Node(id: unknownID, score: candidate, startsAt: start)
                }
            }
            start += characterLength
        }
        var result: [(range: Range<Int>, id: Int32)] = []
        var end = size
        while end > 0 {
            let node = best[end]
            result.append((node.startsAt..<end, node.id))
            end = node.startsAt
        }
        return result.reversed()
    }
}
