import Foundation

/// A SentencePiece model file (`spiece.model`, `tokenizer.model`): the serialized `ModelProto`
/// of google/sentencepiece's `sentencepiece_model.proto`, read natively (no sentencepiece
/// library). Only what encoding needs is kept: the pieces with their scores and types, the
/// trainer's model type and byte fallback, and the normaliser's settings and precompiled map.
/// Proto2 defaults apply to absent fields, as the library's generated code gives them.
struct SentencePieceModel: Sendable {
    /// `ModelProto.SentencePiece.Type`.
    enum PieceType: Int64, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// `TrainerSpec.ModelType`.
    enum Algorithm: Int64, Sendable {
        case unigram = 1, bpe = 2, word = 3, character = 4
    }

    struct Piece: Sendable {
        let text: String
        let score: Float
        let type: PieceType
    }

    /// `NormalizerSpec` (the fields encoding reads).
    struct Normalization: Sendable {
        var name = ""
        /// The precompiled character map: a darts-clone trie and the replacement strings.
        var precompiledCharsMap: [UInt8] = []
        var addDummyPrefix = true
        var removeExtraWhitespaces = true
        var escapeWhitespaces = true
    }

    let pieces: [Piece]
    let algorithm: Algorithm
    let byteFallback: Bool
    let treatWhitespaceAsSuffix: Bool
    let normalization: Normalization

    /// Parses `bytes`, the whole file; `file` names it in errors.
    init(bytes: [UInt8], file: URL) throws {
        func fail(_ message: String) -> TokenizerError {
            TokenizerError(code: .malformedModel, file: file, message: "not a SentencePiece model: \(message)")
        }
        var pieces: [Piece] = []
        var algorithm = Algorithm.unigram
        var byteFallback = false, suffix = false
        var normalization = Normalization()
        do {
            var model = ProtobufReader(bytes[...])
            while let (field, value) = try model.next() {
                switch field {
                case 1:
                    var reader = ProtobufReader(try value.data("pieces"))
                    var text: String?, score: Float = 0, type = PieceType.normal
                    while let (f, v) = try reader.next() {
                        switch f {
                        case 1: text = try v.string("piece")
                        case 2: score = try v.float("score")
                        case 3:
                            let raw = try v.integer("type")
                            guard let t = PieceType(rawValue: raw) else {
                                throw ProtobufReader.Malformed(message: "piece \(pieces.count) has the unknown type \(raw)")
                            }
                            type = t
                        default: break
                        }
                    }
                    guard let text, !text.isEmpty else {
                        throw ProtobufReader.Malformed(message: "piece \(pieces.count) has no text")
                    }
                    pieces.append(Piece(text: text, score: score, type: type))
                case 2:
                    var reader = ProtobufReader(try value.data("trainer_spec"))
                    while let (f, v) = try reader.next() {
                        switch f {
                        case 3:
                            let raw = try v.integer("trainer_spec.model_type")
                            guard let a = Algorithm(rawValue: raw) else {
                                throw ProtobufReader.Malformed(message: "trainer_spec.model_type is the unknown \(raw)")
                            }
                            algorithm = a
                        case 24: suffix = try v.integer("trainer_spec.treat_whitespace_as_suffix") != 0
                        case 35: byteFallback = try v.integer("trainer_spec.byte_fallback") != 0
                        default: break
                        }
                    }
                case 3:
                    var reader = ProtobufReader(try value.data("normalizer_spec"))
                    while let (f, v) = try reader.next() {
                        switch f {
                        case 1: normalization.name = try v.string("normalizer_spec.name")
                        case 2: normalization.precompiledCharsMap = Array(try v.data("normalizer_spec.precompiled_charsmap"))
                        case 3: normalization.addDummyPrefix = try v.integer("normalizer_spec.add_dummy_prefix") != 0
                        case 4: normalization.removeExtraWhitespaces = try v.integer("normalizer_spec.remove_extra_whitespaces") != 0
                        case 5: normalization.escapeWhitespaces = try v.integer("normalizer_spec.escape_whitespaces") != 0
                        default: break
                        }
                    }
                default: break
                }
            }
        } catch let error as ProtobufReader.Malformed {
            throw fail(error.message)
        }
        guard !pieces.isEmpty else { throw fail("it has no pieces") }
        guard algorithm == .unigram || algorithm == .bpe else {
            throw TokenizerError(
                code: .malformedModel, file: file,
                message: "a SentencePiece \(algorithm == .word ? "word" : "character") model; only unigram and BPE models are supported")
        }
        guard pieces.filter({ $0.type == .unknown }).count == 1 else {
            throw fail("it has \(pieces.filter { $0.type == .unknown }.count) unknown pieces (exactly one is needed)")
        }
        self.pieces = pieces
        self.algorithm = algorithm
        self.byteFallback = byteFallback
        self.treatWhitespaceAsSuffix = suffix
        self.normalization = normalization
    }

    /// Reads and parses the model file at `url` (at most `FileKind.checkpointTextLimit` bytes).
    init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try FileKind.contents(of: url, limit: FileKind.checkpointTextLimit)
        } catch {
            throw TokenizerError(code: .unreadableFile, file: url, message: "cannot read the SentencePiece model: \(error)")
        }
        try self.init(bytes: [UInt8](data), file: url)
    }
}
