// The public tokenizer: Hugging Face tokenizer.json semantics (byte-level BPE and SentencePiece-style BPE), loaded
// from a model folder, from tokenizer.json bytes, or from the tokenizer.ggml.* keys of a GGUF file.
import Foundation

/// A token id with the UTF-8 byte range of the input text it came from.
public struct EncodedToken: Sendable, Equatable {
    /// The token id.
    public var id: Int
    /// Byte range in the encoded text; empty for special tokens the post-processor added (BOS/EOS).
    public var utf8Range: Range<Int>

    /// A token and its byte range.
    public init(id: Int, utf8Range: Range<Int>) {
        self.id = id
        self.utf8Range = utf8Range
    }
}

/// A tokenizer whose `encode` and `decode` give exactly what Hugging Face's `tokenizers` library gives for the same
/// tokenizer.json. Immutable and `Sendable`: share one instance across threads.
public struct Tokenizer: Sendable {
    let model: BPEModel
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let postProcessor: PostProcessor?
    let decoder: Decoder?
    let byteLevel: Bool
    /// Added tokens matched on the raw text (normalized == false) and on normalized text (normalized == true).
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    let addedByID: [Int: AddedToken]
    let addedByContent: [TokenKey: Int]
    /// What id_to_token gives for an added token: its content, normalized when the token is `normalized`.
    let addedPieces: [Int: String]

    /// The special tokens (added tokens marked `special`), by id.
    public let specialTokenIDs: Set<Int>
    /// Beginning-of-sequence token: tokenizer_config.json `bos_token`, the GGUF bos id, or the token the
    /// post-processor puts first.
    public let bosToken: String?
    /// End-of-sequence token: tokenizer_config.json `eos_token`, the GGUF eos id, or the token the post-processor
    /// puts last.
    public let eosToken: String?
    /// Id of `bosToken`.
    public let bosTokenID: Int?
    /// Id of `eosToken`.
    public let eosTokenID: Int?
    /// Id of tokenizer_config.json `pad_token` (or the GGUF padding id).
    public let padTokenID: Int?
    /// Id of `unk_token` (config, GGUF, or the BPE model's `unk_token`).
    public let unknownTokenID: Int?
    /// The Jinja chat template (tokenizer_config.json, chat_template.jinja, or GGUF tokenizer.chat_template).
    public let chatTemplate: String?
    /// Number of ids the model's embedding needs: one past the largest id of the vocabulary and added tokens.
    public let vocabularySize: Int

    /// Whether `encode(addSpecialTokens: true)` puts BOS first.
    public var addsBOS: Bool {
        guard let bosTokenID, let postProcessor else { return false }
        return postProcessor.affixes.prefix.first == bosTokenID
    }

    /// Whether `encode(addSpecialTokens: true)` puts EOS last.
    public var addsEOS: Bool {
        guard let eosTokenID, let postProcessor else { return false }
        return postProcessor.affixes.suffix.last == eosTokenID
    }

    /// Special tokens named by tokenizer_config.json / special_tokens_map.json / GGUF ids.
    struct SpecialNames {
        var bos: String?
        var eos: String?
        var pad: String?
        var unk: String?
        var chatTemplate: String?
    }

    init(components: TokenizerComponents, names: SpecialNames) {
        model = components.model
        normalizer = components.normalizer
        preTokenizer = components.preTokenizer
        postProcessor = components.postProcessor
        decoder = components.decoder
        byteLevel = components.preTokenizer?.isByteLevel ?? false
        var byID: [Int: AddedToken] = [:]
        var byContent: [TokenKey: Int] = [:]
        for token in components.addedTokens {
            byID[token.id] = token
            byContent[TokenKey(token.content)] = token.id
        }
        addedByID = byID
        addedByContent = byContent
        let raw = components.addedTokens.filter { !$0.normalized }
        rawMatcher = AddedTokenMatcher(tokens: raw, contents: raw.map { Array($0.content.unicodeScalars) })
        // Normalized added tokens are matched by their normalized form, as tokenizers does.
        let normalizedTokens = components.addedTokens.filter { $0.normalized }
        let normalizer = components.normalizer
        let normalizedContents = normalizedTokens.map { token -> [Unicode.Scalar] in
            var work = WorkText(token.content)
            let range = normalizer?.apply(0..<work.scalars.count, &work) ?? 0..<work.scalars.count
            return Array(work.scalars[range])
        }
        normalizedMatcher = AddedTokenMatcher(tokens: normalizedTokens, contents: normalizedContents)
        var pieces: [Int: String] = [:]
        for token in components.addedTokens { pieces[token.id] = token.content }
        for (token, scalars) in zip(normalizedTokens, normalizedContents) {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            pieces[token.id] = String(view)
        }
        addedPieces = pieces
        specialTokenIDs = Set(components.addedTokens.filter { $0.special }.map { $0.id })
        let maxVocab = components.model.vocab.values.max() ?? -1
        let maxAdded = components.addedTokens.map { $0.id }.max() ?? -1
        vocabularySize = max(maxVocab, maxAdded) + 1

        func lookup(_ token: String?) -> Int? {
            guard let token else { return nil }
            return byContent[TokenKey(token)] ?? components.model.vocab[TokenKey(token)]
        }
        func name(_ id: Int?) -> String? {
            guard let id else { return nil }
            return byID[id]?.content ?? components.model.idToToken[id]
        }
        let affixes: (prefix: [Int], suffix: [Int]) = components.postProcessor?.affixes ?? ([], [])
        let bosID = lookup(names.bos) ?? affixes.prefix.first
        let eosID = lookup(names.eos) ?? affixes.suffix.last
        bosTokenID = bosID
        eosTokenID = eosID
        bosToken = names.bos.flatMap { lookup($0) != nil ? $0 : nil } ?? name(bosID)
        eosToken = names.eos.flatMap { lookup($0) != nil ? $0 : nil } ?? name(eosID)
        padTokenID = lookup(names.pad)
        unknownTokenID = lookup(names.unk) ?? components.model.unknownID
        chatTemplate = names.chatTemplate
    }

    /// The vocabulary piece for `id` (added tokens first, as tokenizers does), e.g. "Ġthe".
    public func tokenString(for id: Int) -> String? {
        addedPieces[id] ?? model.idToToken[id]
    }

    /// The id of a vocabulary piece or added token.
    public func id(for token: String) -> Int? {
        addedByContent[TokenKey(token)] ?? model.vocab[TokenKey(token)]
    }

    /// The added tokens (special or not), sorted by id.
    public var addedTokens: [AddedToken] {
        addedByID.values.sorted { $0.id < $1.id }
    }
}
