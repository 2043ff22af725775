// The tokenizer keys of an exported GGUF (spec §4.4): copied verbatim from a GGUF base, or built from a Hugging
// Face tokenizer.json (byte-level BPE → "gpt2"; SentencePiece-style BPE → "llama", SentencePieceGGUFVocab.swift).
// A model without a tokenizer gets tokenizer.ggml.model "none".
import Foundation
import TailorFormats
import TailorModels
import TailorTokenizers

/// Building tokenizer.ggml.* metadata.
public enum GGUFTokenizerMetadata {
    /// The keys for the tokenizer of `checkpoint`.
    public static func keys(for checkpoint: ModelCheckpoint) throws -> [(key: String, value: GGUFValue)] {
        if let gguf = checkpoint.gguf {
            let keys = gguf.metadataKeys.filter { $0.hasPrefix("tokenizer.") }
            return keys.isEmpty ? [("tokenizer.ggml.model", .string("none"))] : keys.compactMap { k in gguf.metadata[k].map { (k, $0) } }
        }
        let folder = checkpoint.sourceURL.hasDirectoryPath ? checkpoint.sourceURL : checkpoint.sourceURL.deletingLastPathComponent()
        let url = folder.appendingPathComponent("tokenizer.json")
        let spModel = folder.appendingPathComponent("tokenizer.model")
        if FileManager.default.fileExists(atPath: spModel.path) {
            // The converter reads a SentencePiece model first (real scores), tokenizer.json only without one.
            return try SentencePieceGGUFVocab.keys(folder: folder, model: SentencePieceModelFile(url: spModel),
                                                   root: TokenizerJSONFile.object(url), vocabSize: checkpoint.config.vocabSize)
        }
        guard FileManager.default.fileExists(atPath: url.path) else { return [("tokenizer.ggml.model", .string("none"))] }
        if let root = TokenizerJSONFile.object(url), SentencePieceGGUFVocab.accepts(root) {
            return try SentencePieceGGUFVocab.keys(folder: folder, root: root, vocabSize: checkpoint.config.vocabSize)
        }
        return try fromTokenizerJSON(url, modelType: checkpoint.config.modelType, vocabSize: checkpoint.config.vocabSize,
                                     tokenizer: Tokenizer(directory: folder))
    }

    /// tokenizer.json (byte-level BPE) → gpt2 keys: tokens by id (gaps "[PAD<i>]", type UNUSED), token types,
    /// merges "a b", the pre-tokenizer name, special ids, add_bos, chat template.
    static func fromTokenizerJSON(_ url: URL, modelType: String, vocabSize: Int, tokenizer: Tokenizer) throws -> [(key: String, value: GGUFValue)] {
        guard let root = TokenizerJSONFile.object(url),
              let model = root["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Int] else {
            throw ExportError.unsupported("\(url.path): not a BPE tokenizer.json")
        }
        let pre = root["pre_tokenizer"].map { String(describing: $0) } ?? ""
        guard pre.contains("ByteLevel") else {
            throw ExportError.unsupported("\(url.path): only byte-level BPE and SentencePiece-style BPE (byte fallback) tokenizers are converted")
        }
        let added = (root["added_tokens"] as? [[String: Any]]) ?? []
        let count = max(vocabSize, (vocab.values.max() ?? -1) + 1, (added.compactMap { $0["id"] as? Int }.max() ?? -1) + 1)
        var tokens = (0..<count).map { "[PAD\($0)]" }
        var types = [Int32](repeating: 5, count: count)
        for (token, id) in vocab where id < count { tokens[id] = token; types[id] = 1 }
        for entry in added {
            guard let id = entry["id"] as? Int, id < count, let content = entry["content"] as? String else { continue }
            tokens[id] = content
            let special = (entry["special"] as? Bool) ?? false
            types[id] = special || (content.hasPrefix("<|") && content.hasSuffix("|>")) ? 3 : 4
        }
        let merges: [String] = ((model["merges"] as? [Any]) ?? []).compactMap { item in
            if let s = item as? String { return s }
            if let pair = item as? [String], pair.count == 2 {
                return pair.map { $0.replacingOccurrences(of: " ", with: "\u{0120}") }.joined(separator: " ")
            }
            return nil
        }
        let preName: String
        if modelType == "qwen2" { preName = "qwen2" } else if pre.contains("{1,3}") { preName = "llama-bpe" } else if pre.contains("Digits") { preName = "smollm" } else { preName = "gpt-2" }
        var keys: [(key: String, value: GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string(preName)),
            ("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(types.map { .int32($0) })),
            ("tokenizer.ggml.merges", .array(merges.map { .string($0) })),
        ]
        if let id = tokenizer.bosTokenID { keys.append(("tokenizer.ggml.bos_token_id", .uint32(UInt32(id)))) }
        if let id = tokenizer.eosTokenID { keys.append(("tokenizer.ggml.eos_token_id", .uint32(UInt32(id)))) }
        if let id = tokenizer.unknownTokenID { keys.append(("tokenizer.ggml.unknown_token_id", .uint32(UInt32(id)))) }
        if let id = tokenizer.padTokenID { keys.append(("tokenizer.ggml.padding_token_id", .uint32(UInt32(id)))) }
        keys.append(("tokenizer.ggml.add_bos_token", .bool(tokenizer.addsBOS)))
        if let template = tokenizer.chatTemplate { keys.append(("tokenizer.chat_template", .string(template))) }
        return keys
    }
}
