// SentencePiece-style tokenizers (Llama-2, Mistral v1: BPE with byte fallback, "▁" pieces) as GGUF "llama" vocab,
// the way llama.cpp's convert_hf_to_gguf writes a llama model that ships tokenizer.json without tokenizer.model
// (LlamaModel.set_vocab → _set_vocab_llama_hf, gguf-py LlamaHfVocab + SpecialVocab):
//   tokens  = the model vocabulary by id, then the added tokens whose id lies beyond it, in id order
//   scores  = -1000 for every token (LlamaHfVocab has no SentencePiece scores to copy)
//   types   = BYTE for "<0xNN>", CONTROL for the tokenizer's special tokens (named + extra), USER_DEFINED for other
//             appended added tokens, NORMAL otherwise; model "llama", pre "default"; then SpecialVocab's keys.
// Tailor also writes tokenizer.ggml.merges (llama.cpp ignores merges for "llama" vocabularies): with equal scores
// the merge order could not be rebuilt, and Tailor's and transformers' GGUF readers use the list when present.
import Foundation
import TailorFormats
import TailorTokenizers

enum SentencePieceGGUFVocab {
    /// Whether a tokenizer.json is a SentencePiece-style BPE (gguf-py's test: BPE, byte_fallback, a Sequence decoder,
    /// and not Llama-3's ignore_merges without byte fallback).
    static func accepts(_ root: [String: Any]) -> Bool {
        guard let model = root["model"] as? [String: Any], model["type"] as? String == "BPE" else { return false }
        let byteFallback = (model["byte_fallback"] as? Bool) ?? false
        let decoder = (root["decoder"] as? [String: Any])?["type"] as? String
        return byteFallback && decoder == "Sequence"
    }

    /// The tokenizer keys for the tokenizer.json `root` of `folder`; `vocabSize` (config.json) pads the token list with
    /// "[PAD<i>]" (UNUSED, score -1000) as the SentencePiece converter does, so that llama.cpp finds one token per row.
    static func keys(folder: URL, root: [String: Any], vocabSize: Int) throws -> [(key: String, value: GGUFValue)] {
        let file = folder.appendingPathComponent("tokenizer.json").path
        guard let model = root["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Any] else {
            throw ExportError.unsupported("\(file): model.vocab missing")
        }
        // Token text comes from Tailor's tokenizer, which keys pieces by their bytes: a Swift dictionary would merge
        // canonically equivalent pieces (precomposed and decomposed "é" are different tokens).
        let tokenizer = try Tokenizer(directory: folder)
        let base = (vocab.values.compactMap { $0 as? Int }.max() ?? -1) + 1
        var byID: [String] = []
        for id in 0..<base {
            guard let token = tokenizer.tokenString(for: id) else {
                throw ExportError.unsupported("\(file): no vocabulary piece has id \(id) (ids must be 0..<\(base))")
            }
            byID.append(token)
        }
        let added = ((root["added_tokens"] as? [[String: Any]]) ?? []).compactMap { entry -> (id: Int, content: String)? in
            guard let id = entry["id"] as? Int, let content = entry["content"] as? String else { return nil }
            return (id, content)
        }
        let appended = added.filter { $0.id >= base }.sorted { $0.id < $1.id }
        let special = specialIDs(folder: folder, tokenizer: tokenizer, added: added)
        var tokens: [String] = [], types: [Int32] = []
        for id in 0..<base {
            let token = byID[id]
            tokens.append(token)
            types.append(isByteToken(token) ? 6 : special.contains(id) ? 3 : 1)
        }
        for entry in appended {
            tokens.append(entry.content)
            types.append(special.contains(entry.id) ? 3 : 4)
        }
        var scores = [Float](repeating: -1000, count: tokens.count)
        if tokens.count < vocabSize {
            for id in tokens.count..<vocabSize { tokens.append("[PAD\(id)]"); types.append(5); scores.append(-1000) }
        }
        return assemble(folder: folder, root: root, tokens: tokens, scores: scores, types: types)
    }

    /// The keys for a folder with tokenizer.model, as the converter's _set_vocab_sentencepiece (tried before the
    /// tokenizer.json path): one token per id up to config.json's vocab_size ("[PAD<i>]", score -10000, UNUSED where
    /// the model has none), the pieces' own scores and types (unknown, control, unused, byte; others NORMAL), then
    /// added_tokens.json ids as USER_DEFINED and tokenizer_config.json's added_tokens_decoder as CONTROL (special or
    /// looking special) or USER_DEFINED ("▁" written as a space), both with score -1000.
    static func keys(folder: URL, model file: SentencePieceModelFile, root: [String: Any]?, vocabSize: Int) throws
        -> [(key: String, value: GGUFValue)] {
        let count = vocabSize > 0 ? vocabSize : file.pieces.count
        var tokens = (0..<count).map { "[PAD\($0)]" }
        var scores = [Float](repeating: -10000, count: count)
        var types = [Int32](repeating: 5, count: count)
        for (id, piece) in file.pieces.enumerated() where id < count {
            tokens[id] = piece.text
            scores[id] = piece.score
            switch piece.type {
            case .unknown: types[id] = 2
            case .control: types[id] = 3
            case .unused: types[id] = 5
            case .byte: types[id] = 6
            case .normal, .userDefined: types[id] = 1
            }
        }
        for (token, value) in TokenizerJSONFile.object(folder.appendingPathComponent("added_tokens.json")) ?? [:] {
            guard let id = value as? Int, (0..<count).contains(id) else { continue }
            tokens[id] = token
            scores[id] = -1000
            types[id] = 4
        }
        let config = TokenizerJSONFile.object(folder.appendingPathComponent("tokenizer_config.json"))
        let decoder = (config?["added_tokens_decoder"] as? [String: Any]) ?? [:]
        for (key, value) in decoder.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            guard let id = Int(key), (0..<count).contains(id), let entry = value as? [String: Any],
                  let content = entry["content"] as? String else { continue }
            if (entry["special"] as? Bool) == true || looksSpecial(content) {
                tokens[id] = content
                types[id] = 3
            } else {
                tokens[id] = content.replacingOccurrences(of: "\u{2581}", with: " ")
                types[id] = 4
            }
            scores[id] = -1000
        }
        return assemble(folder: folder, root: root, tokens: tokens, scores: scores, types: types)
    }

    /// The converter's does_token_look_special: added tokens that ought to be control tokens.
    static func looksSpecial(_ t: String) -> Bool {
        ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(t) || (t.hasPrefix("<|") && t.hasSuffix("|>"))
            || (t.hasPrefix("<\u{FF5C}") && t.hasSuffix("\u{FF5C}>")) || (t.hasPrefix("<unused") && t.hasSuffix(">"))
    }

    /// add_space_prefix (LlamaModel.set_vocab, from tokenizer_config's add_prefix_space), the vocabulary keys,
    /// SpecialVocab's keys, then the merges of tokenizer.json when there is one.
    static func assemble(folder: URL, root: [String: Any]?, tokens: [String], scores: [Float], types: [Int32])
        -> [(key: String, value: GGUFValue)] {
        var keys: [(key: String, value: GGUFValue)] = []
        if let prefix = TokenizerJSONFile.object(folder.appendingPathComponent("tokenizer_config.json"))?["add_prefix_space"] as? Bool {
            keys.append(("tokenizer.ggml.add_space_prefix", .bool(prefix)))
        }
        keys += [
            ("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.pre", .string("default")),
            ("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            ("tokenizer.ggml.scores", .array(scores.map { .float32($0) })),
            ("tokenizer.ggml.token_type", .array(types.map { .int32($0) })),
        ]
        keys += ConverterSpecialVocab(folder: folder, tokenizer: root ?? [:], vocabCount: tokens.count).keys
        let merges = mergeLines((root?["model"] as? [String: Any])?["merges"])
        if !merges.isEmpty { keys.append(("tokenizer.ggml.merges", .array(merges.map { .string($0) }))) }
        return keys
    }

    /// `<0xNN>` (two hex digits, either case), the SentencePiece byte pieces.
    static func isByteToken(_ token: String) -> Bool {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return false }
        return u[3...4].allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) }
    }

    /// transformers' all_special_ids: the named special tokens of tokenizer_config.json (bos, eos, unk, sep, pad, cls,
    /// mask) and its extra_special_tokens / additional_special_tokens, looked up in the vocabulary and added tokens.
    static func specialIDs(folder: URL, tokenizer: Tokenizer, added: [(id: Int, content: String)]) -> Set<Int> {
        guard let config = TokenizerJSONFile.object(folder.appendingPathComponent("tokenizer_config.json")) else { return [] }
        func content(_ value: Any?) -> String? { (value as? String) ?? ((value as? [String: Any])?["content"] as? String) }
        var names = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"].compactMap { content(config["\($0)_token"]) }
        for key in ["extra_special_tokens", "additional_special_tokens"] {
            names += ((config[key] as? [Any]) ?? []).compactMap(content)
        }
        return Set(names.compactMap { name in tokenizer.id(for: name) })
    }

    /// tokenizer.json merges as "left right" lines (pairs with a space inside a part encode it as U+0120, as gguf-py).
    static func mergeLines(_ merges: Any?) -> [String] {
        ((merges as? [Any]) ?? []).compactMap { item in
            if let line = item as? String { return line }
            guard let pair = item as? [String], pair.count == 2 else { return nil }
            return pair.map { $0.replacingOccurrences(of: " ", with: "\u{0120}") }.joined(separator: " ")
        }
    }
}
