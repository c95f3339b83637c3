import Foundation

/// A SentencePiece model ready to encode: normalise (``SentencePieceNormalizer``), segment
/// (``UnigramEncoder`` or ``SentencePieceBPE``), then merge each run of unknown pieces into one
/// and — with `byte_fallback` — spell it as its UTF-8 bytes (`<0xXX>` pieces), as
/// `SentencePieceProcessor::Encode` does.
/// Immutable, so one instance serves many threads.
struct SentencePieceProcessor: Sendable {
    private enum Segmenter: Sendable {
        case unigram(UnigramEncoder)
        case bpe(SentencePieceBPE)
    }

    let model: SentencePieceModel
    private let normalizer: SentencePieceNormalizer
    private let segmenter: Segmenter
    /// Normal, user-defined and unused pieces (the library's `pieces_`).
    private let pieceIDs: [[UInt8]: Int32]
    /// Control, unknown and byte pieces (the library's `reserved_id_map_`).
    private let reservedIDs: [String: Int32]
    /// The unknown piece's id.
    let unknownID: Int32
    /// The id of each byte's `<0xXX>` piece (byte fallback), when the model has them.
    private let byteIDs: [Int32?]

    /// The number of pieces: every id is below it.
    var pieceCount: Int { model.pieces.count }

    init(model: SentencePieceModel, file: URL) throws {
        self.model = model
        var pieceIDs: [[UInt8]: Int32] = [:], reservedIDs: [String: Int32] = [:]
        var userDefined: [String] = []
        var unknownID: Int32 = 0
        for (i, piece) in model.pieces.enumerated() {
            let id = Int32(i)
            switch piece.type {
            case .normal, .userDefined, .unused:
                guard pieceIDs.updateValue(id, forKey: Array(piece.text.utf8)) == nil else {
                    throw TokenizerError(code: .malformedModel, file: file, message: "the piece \"\(piece.text)\" is defined twice")
                }
                if piece.type == .userDefined { userDefined.append(piece.text) }
            case .unknown, .control, .byte:
                guard reservedIDs.updateValue(id, forKey: piece.text) == nil else {
                    throw TokenizerError(code: .malformedModel, file: file, message: "the piece \"\(piece.text)\" is defined twice")
                }
                if piece.type == .unknown { unknownID = id }
                if piece.type == .byte && !model.byteFallback {
                    throw TokenizerError(
                        code: .malformedModel, file: file,
                        message: "byte piece \"\(piece.text)\" in a model without byte_fallback")
                }
            }
        }
        self.pieceIDs = pieceIDs
        self.reservedIDs = reservedIDs
        self.unknownID = unknownID
        byteIDs = (0...255).map { reservedIDs[Self.bytePiece(UInt8($0))] }
        if model.byteFallback, let missing = byteIDs.firstIndex(where: { $0 == nil }) {
            throw TokenizerError(
                code: .malformedModel, file: file,
                message: "byte_fallback is on but the piece \(Self.bytePiece(UInt8(missing))) is missing")
        }
        let matcher = PieceMatcher(userDefined)
        let n = model.normalization
        normalizer = SentencePieceNormalizer(
            charsMap: try PrecompiledCharsMap(n.precompiledCharsMap, file: file), addDummyPrefix: n.addDummyPrefix,
            removeExtraWhitespaces: n.removeExtraWhitespaces, escapeWhitespaces: n.escapeWhitespaces,
            treatWhitespaceAsSuffix: model.treatWhitespaceAsSuffix, userDefined: matcher)
        switch model.algorithm {
        case .bpe: segmenter = .bpe(SentencePieceBPE(model: model, ids: pieceIDs, userDefined: matcher))
        default: segmenter = .unigram(UnigramEncoder(model: model, ids: pieceIDs, unknownID: unknownID))
        }
    }

    /// Reads the model file at `url`.
    init(contentsOf url: URL) throws {
        try self.init(model: SentencePieceModel(contentsOf: url), file: url)
    }

    /// The library's `ByteToPiece`: `<0xXX>`, upper-case hex.
    static func bytePiece(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x\(hex.count == 1 ? "0" + hex : hex)>"
    }

    /// `PieceToId`: a reserved piece, else a normal one, else the unknown id.
    func id(of piece: String) -> Int32 {
        reservedIDs[piece] ?? pieceIDs[Array(piece.utf8)] ?? unknownID
    }

    /// The normalised UTF-8 bytes of `text` (what the segmenter sees).
    func normalize(_ text: String) -> [UInt8] { normalizer.normalize(Array(text.utf8)) }

    /// The ids of `text`, as `SentencePieceProcessor.encode(text)` gives them (no bos or eos).
    func encode(_ text: String) -> [Int32] {
        let normalized = normalize(text)
        var ids: [Int32] = []
        ids.reserveCapacity(normalized.count)
        // A run of unknown pieces is one unknown piece (the library merges their surfaces);
        // with byte fallback it is spelled byte by byte either way.
        var previousIsUnknown = false
        func emit(_ range: Range<Int>, _ id: Int32) {
            if id == unknownID && model.byteFallback {
                for byte in normalized[range] { ids.append(byteIDs[Int(byte)]!) }
            } else if !(id == unknownID && previousIsUnknown) {
                ids.append(id)
            }
            previousIsUnknown = id == unknownID
        }
        switch segmenter {
        case .unigram(let encoder):
            for piece in encoder.encode(normalized) { emit(piece.range, piece.id) }
        case .bpe(let encoder):
            for piece in encoder.encode(normalized) { emit(piece.range, piece.id ?? unknownID) }
        }
        return ids
    }
}
