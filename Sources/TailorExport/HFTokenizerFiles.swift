// GGUF tokenizer metadata → Hugging Face tokenizer.json + tokenizer_config.json, so that transformers'
// AutoTokenizer loads a model merged from a GGUF base. Byte-level BPE ("gpt2") here, the pre-tokenizer following
// tokenizer.ggml.pre as llama.cpp interprets it; SentencePiece ("llama") in HFSentencePieceTokenizer.swift.
import Foundation
import TailorTokenizers

/// The two tokenizer files of a Hugging Face folder.
public struct HFTokenizerFiles: Sendable {
    public var tokenizerJSON: Data
    public var tokenizerConfig: Data

    /// Llama 3's split regex (llama.cpp "llama-bpe"); Qwen2's differs only in single digits.
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The pre_tokenizer object for llama.cpp's pre-tokenizer name.
    static func preTokenizer(_ pre: String?) -> [String: Any] {
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        func split(_ pattern: String) -> [String: Any] {
            ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false] as [String: Any],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false] as [String: Any],
            ]]
        }
        switch pre {
        case "smollm":
            // SmolLM/SmolLM2: every digit alone, then GPT-2's byte-level split.
            return ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true] as [String: Any], byteLevel]]
        case "llama-bpe", "llama3": return split(llama3Pattern)
        case "qwen2": return split(qwen2Pattern)
        default: return byteLevel
        }
    }

    /// Builds the files from `data`: byte-level BPE ("gpt2") or SentencePiece ("llama", HFSentencePieceTokenizer.swift).
    /// Throws `ExportError.unsupported` for other tokenizer models.
    public static func make(from data: GGUFTokenizerData) throws -> HFTokenizerFiles {
        if data.model == "llama" { return try HFSentencePieceTokenizer.make(from: data) }
        guard data.model == "gpt2" else {
            throw ExportError.unsupported("tokenizer.ggml.model '\(data.model)': only byte-level BPE (gpt2) and SentencePiece (llama) "
                + "tokenizers can be written as tokenizer.json (hint: copy tokenizer.json from the original Hugging Face model into the output)")
        }
        let types = data.tokenTypes ?? []
        var vocab: [String: Int] = [:]
        var added: [[String: Any]] = []
        for (id, token) in data.tokens.enumerated() {
            vocab[token] = id
            let type = id < types.count ? types[id] : 1
            // CONTROL (3) tokens are special added tokens; USER_DEFINED (4) are added but not special.
            if type == 3 || type == 4 {
                added.append(["id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false,
                              "normalized": type != 3, "special": type == 3])
            }
        }
        let merges: [[String]] = (data.merges ?? []).map { line in
            guard let space = line.firstIndex(of: " ") else { return [line, ""] }
            return [String(line[..<space]), String(line[line.index(after: space)...])]
        }
        let model: [String: Any] = [
            "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
            "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merges,
        ]
        let tokenizer: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(), "pre_tokenizer": preTokenizer(data.pre),
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true] as [String: Any],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true] as [String: Any],
            "model": model,
        ]
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        return HFTokenizerFiles(tokenizerJSON: try JSONSerialization.data(withJSONObject: tokenizer, options: options),
                                tokenizerConfig: try config(data))
    }

    /// tokenizer_config.json: the fast tokenizer class, special tokens by text, add_bos/add_eos, the chat template.
    static func config(_ data: GGUFTokenizerData) throws -> Data {
        func token(_ id: Int?) -> Any { id.flatMap { data.tokens.indices.contains($0) ? data.tokens[$0] : nil } ?? NSNull() }
        var config: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": false,
            "model_max_length": 1_000_000_000_000_000_019_884_624_838_656 as Double,
            "bos_token": token(data.bosTokenID), "eos_token": token(data.eosTokenID),
            "unk_token": token(data.unknownTokenID), "pad_token": token(data.paddingTokenID),
            "add_bos_token": data.addBOS ?? (data.model == "llama"), "add_eos_token": data.addEOS ?? false,
        ]
        if let template = data.chatTemplate { config["chat_template"] = template }
        return try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted])
    }
}
