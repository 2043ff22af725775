// Building a tokenizer from the tokenizer.ggml.* keys of a GGUF file (parsed by TailorFormats' reader).
// "gpt2" files are byte-level BPE: tokens + merges, the pre-tokenizer chosen by tokenizer.ggml.pre as llama.cpp
// does. "llama" files are SentencePiece: tokens + scores, merges rebuilt from the scores as transformers'
// GGUF converter does, byte fallback through the <0xNN> tokens.
import Foundation

/// The tokenizer metadata of a GGUF file (keys `tokenizer.ggml.*` and `tokenizer.chat_template`).
public struct GGUFTokenizerData: Sendable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) or "llama" (SentencePiece BPE).
    public var model: String
    /// `tokenizer.ggml.pre`: llama.cpp's pre-tokenizer name ("smollm", "llama-bpe", "qwen2", "gpt-2", "default"),
    /// mapped to the model's own tokenizer.json rules ("smollm" splits digits, as SmolLM2 does). transformers' GGUF
    /// loader ignores this key and uses GPT-2's rules; set it to "gpt-2" to reproduce that conversion exactly.
    public var pre: String?
    /// `tokenizer.ggml.tokens`: the vocabulary, piece text by id.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public var tokenTypes: [Int32]?
    /// `tokenizer.ggml.merges`, each "left right".
    public var merges: [String]?
    /// `tokenizer.ggml.scores` (SentencePiece piece scores; "llama" models rebuild merges from them).
    public var scores: [Float]?
    /// `tokenizer.ggml.bos_token_id`.
    public var bosTokenID: Int?
    /// `tokenizer.ggml.eos_token_id`.
    public var eosTokenID: Int?
    /// `tokenizer.ggml.unknown_token_id`.
    public var unknownTokenID: Int?
    /// `tokenizer.ggml.padding_token_id`.
    public var paddingTokenID: Int?
    /// `tokenizer.ggml.add_bos_token` (absent: true for "llama" and "llama-bpe", false otherwise).
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_eos_token` (absent: false).
    public var addEOS: Bool?
    /// `tokenizer.ggml.add_space_prefix` ("llama" only; absent: true).
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template`.
    public var chatTemplate: String?

    /// Memberwise initializer; the GGUF reader passes the keys it found.
    public init(model: String, pre: String? = nil, tokens: [String], tokenTypes: [Int32]? = nil,
                merges: [String]? = nil, scores: [Float]? = nil, bosTokenID: Int? = nil, eosTokenID: Int? = nil,
                unknownTokenID: Int? = nil, paddingTokenID: Int? = nil, addBOS: Bool? = nil, addEOS: Bool? = nil,
                addSpacePrefix: Bool? = nil, chatTemplate: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.scores = scores
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.unknownTokenID = unknownTokenID
        self.paddingTokenID = paddingTokenID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
    }
}

extension Tokenizer {
    static let ggufFile = "GGUF"

    /// Builds the tokenizer described by a GGUF file's tokenizer metadata.
    public init(gguf: GGUFTokenizerData) throws {
        var vocab: [TokenKey: Int] = [:]
        vocab.reserveCapacity(gguf.tokens.count)
        for (id, token) in gguf.tokens.enumerated() { vocab[TokenKey(token)] = id }
        if let types = gguf.tokenTypes, types.count != gguf.tokens.count {
            throw TokenizerError.malformedJSON(file: Self.ggufFile, key: "tokenizer.ggml.token_type",
                                               reason: "\(types.count) entries for \(gguf.tokens.count) tokens")
        }
        func token(_ id: Int?, key: String) throws -> String? {
            guard let id else { return nil }
            guard gguf.tokens.indices.contains(id) else {
                throw TokenizerError.malformedJSON(file: Self.ggufFile, key: key,
                                                   reason: "id \(id) outside the \(gguf.tokens.count) tokens")
            }
            return gguf.tokens[id]
        }
        let bos = try token(gguf.bosTokenID, key: "tokenizer.ggml.bos_token_id")
        let eos = try token(gguf.eosTokenID, key: "tokenizer.ggml.eos_token_id")
        let unk = try token(gguf.unknownTokenID, key: "tokenizer.ggml.unknown_token_id")
        let pad = try token(gguf.paddingTokenID, key: "tokenizer.ggml.padding_token_id")
        let components: TokenizerComponents
        switch gguf.model {
        case "gpt2":
            components = try Self.byteLevelComponents(gguf, vocab: vocab, bos: gguf.bosTokenID, eos: gguf.eosTokenID)
        case "llama":
            components = try Self.sentencePieceComponents(gguf, vocab: vocab, bos: gguf.bosTokenID, eos: gguf.eosTokenID)
        default:
            throw TokenizerError.unsupportedModel(file: "GGUF tokenizer.ggml.model", type: gguf.model)
        }
        self.init(components: components,
                  names: SpecialNames(bos: bos, eos: eos, pad: pad, unk: unk, chatTemplate: gguf.chatTemplate))
    }

    /// Added tokens from the token types: control (and unknown) tokens are special, user-defined ones are not.
    private static func addedTokens(_ gguf: GGUFTokenizerData) -> [AddedToken] {
        guard let types = gguf.tokenTypes else { return [] }
        var result: [AddedToken] = []
        for (id, type) in types.enumerated() where type == 2 || type == 3 || type == 4 {
            result.append(AddedToken(id: id, content: gguf.tokens[id], normalized: false, special: type != 4))
        }
        return result
    }

    private static func template(addBOS: Bool, bos: Int?, addEOS: Bool, eos: Int?) -> PostProcessor {
        var pieces: [TemplatePiece] = []
        if addBOS, let bos { pieces.append(.special(ids: [bos])) }
        pieces.append(.sequence)
        if addEOS, let eos { pieces.append(.special(ids: [eos])) }
        return .template(single: pieces)
    }

    private static func byteLevelComponents(_ gguf: GGUFTokenizerData, vocab: [TokenKey: Int], bos: Int?,
                                            eos: Int?) throws -> TokenizerComponents {
        guard let mergeLines = gguf.merges else {
            throw TokenizerError.malformedJSON(file: ggufFile, key: "tokenizer.ggml.merges", reason: "missing (required for gpt2)")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeLines.count)
        for (index, line) in mergeLines.enumerated() {
            guard let space = line.firstIndex(of: " ") else {
                throw TokenizerError.malformedJSON(file: ggufFile, key: "tokenizer.ggml.merges[\(index)]",
                                                   reason: "expected \"left right\", got \"\(line)\"")
            }
            merges.append((String(line[..<space]), String(line[line.index(after: space)...])))
        }
        let byteLevel = PreTokenizer.byteLevel(addPrefixSpace: false, useRegex: false)
        var normalizer: Normalizer? = nil
        var ignoreMerges = false
        var defaultBOS = false
        let preTokenizer: PreTokenizer
        // llama.cpp picks the split rules by name; these are the tokenizer.json equivalents (compatibility spec 5.4).
        switch gguf.pre ?? "default" {
        case "default", "gpt-2", "gpt2", "":
            preTokenizer = .byteLevel(addPrefixSpace: false, useRegex: true)
        case "smollm":
            preTokenizer = .sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)])
        case "llama-bpe", "llama3", "llama-v3":
            preTokenizer = .sequence([.split(.llama3, .isolated, invert: false), byteLevel])
            ignoreMerges = true
            defaultBOS = true
        case "qwen2":
            normalizer = .nfc
            preTokenizer = .sequence([.split(.qwen2, .isolated, invert: false), byteLevel])
        case let other:
            throw TokenizerError.unsupportedComponent(file: ggufFile, key: "tokenizer.ggml.pre", type: other)
        }
        let model = try BPEModel(vocab: vocab, merges: merges, unknownToken: nil, fuseUnknown: false, byteFallback: false,
                                 ignoreMerges: ignoreMerges, continuingSubwordPrefix: nil, endOfWordSuffix: nil,
                                 file: "GGUF tokenizer.ggml.merges")
        return TokenizerComponents(
            model: model, addedTokens: addedTokens(gguf), normalizer: normalizer, preTokenizer: preTokenizer,
            postProcessor: template(addBOS: gguf.addBOS ?? defaultBOS, bos: bos, addEOS: gguf.addEOS ?? false, eos: eos),
            decoder: .byteLevel)
    }

    /// As transformers' GGUF converter builds it: Metaspace (prepend "▁" to the first piece), byte fallback, no
    /// unknown token in the model (every byte has a <0xNN> piece), decoder Replace/ByteFallback/Fuse/Strip.
    private static func sentencePieceComponents(_ gguf: GGUFTokenizerData, vocab: [TokenKey: Int],
                                                bos: Int?, eos: Int?) throws -> TokenizerComponents {
        guard let scores = gguf.scores else {
            throw TokenizerError.malformedJSON(file: ggufFile, key: "tokenizer.ggml.scores", reason: "missing (required for llama)")
        }
        guard scores.count == gguf.tokens.count else {
            throw TokenizerError.malformedJSON(file: ggufFile, key: "tokenizer.ggml.scores",
                                               reason: "\(scores.count) scores for \(gguf.tokens.count) tokens")
        }
        let merges: [(String, String)]
        if let lines = gguf.merges, !lines.isEmpty {
            merges = lines.compactMap { line in
                // Split on the scalar: a space followed by a combining mark is one Character ("E ́" for ["E", "́"]).
                line.unicodeScalars.firstIndex(of: " ").map {
                    (String(line.unicodeScalars[..<$0]), String(line.unicodeScalars[line.unicodeScalars.index(after: $0)...]))
                }
            }
        } else {
            merges = mergesFromScores(tokens: gguf.tokens, scores: scores, vocab: vocab)
        }
        let model = try BPEModel(vocab: vocab, merges: merges, unknownToken: nil, fuseUnknown: true, byteFallback: true,
                                 ignoreMerges: false, continuingSubwordPrefix: nil, endOfWordSuffix: nil,
                                 file: "GGUF tokenizer.ggml.tokens")
        let spacePrefix = gguf.addSpacePrefix ?? true
        var decoders: [Decoder] = [.replace(pattern: "\u{2581}", content: " "), .byteFallback, .fuse]
        if spacePrefix { decoders.append(.strip(content: " ", start: 1, stop: 0)) }
        return TokenizerComponents(
            model: model, addedTokens: addedTokens(gguf),
            normalizer: nil,
            preTokenizer: .metaspace(replacement: "\u{2581}", prependScheme: spacePrefix ? .first : .never, split: false),
            postProcessor: template(addBOS: gguf.addBOS ?? true, bos: bos, addEOS: gguf.addEOS ?? false, eos: eos),
            decoder: .sequence(decoders))
    }

    /// SentencePiece has no merge list; like transformers' converter, every split of a piece into two vocabulary
    /// pieces is a merge, ranked by the merged piece's score (higher first), ties in id order, then by the ids
    /// of the two parts.
    static func mergesFromScores(tokens: [String], scores: [Float], vocab: [TokenKey: Int]) -> [(String, String)] {
        var candidates: [(left: String, right: String, score: Float, order: Int)] = []
        for (id, piece) in tokens.enumerated() {
            let scalars = Array(piece.unicodeScalars)
            guard scalars.count > 1 else { continue }
            var local: [(String, String, Int, Int)] = []
            for cut in 1..<scalars.count {
                var left = String.UnicodeScalarView(), right = String.UnicodeScalarView()
                left.append(contentsOf: scalars[..<cut])
                right.append(contentsOf: scalars[cut...])
                let l = String(left), r = String(right)
                if let li = vocab[TokenKey(l)], let ri = vocab[TokenKey(r)] { local.append((l, r, li, ri)) }
            }
            local.sort { ($0.2, $0.3) < ($1.2, $1.3) }
            for entry in local {
                candidates.append((entry.0, entry.1, scores[id], candidates.count))
            }
        }
        // Stable sort by score, descending (Python's sorted is stable).
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.order < $1.order }
        return candidates.map { ($0.left, $0.right) }
    }
}
