// GGUF "llama" (SentencePiece) tokenizer metadata → tokenizer.json + tokenizer_config.json, built as transformers
// builds a tokenizer from such a GGUF (integrations/gguf: LlamaTokenizer(vocab, merges)): BPE with byte fallback and
// fuse_unk, merges from tokenizer.ggml.merges or rebuilt from the scores, Metaspace pre-tokenizer ("▁" prefixed to
// the first piece unless add_space_prefix is false), decoder Replace("▁"→" ")/ByteFallback/Fuse/Strip, BOS/EOS
// template from add_bos/add_eos, control tokens as special added tokens, user-defined ones as plain added tokens.
import Foundation
import TailorText
import TailorTokenizers

enum HFSentencePieceTokenizer {
    static func make(from data: GGUFTokenizerData) throws -> HFTokenizerFiles {
        guard let scores = data.scores ?? (data.merges == nil ? nil : [Float](repeating: 0, count: data.tokens.count)) else {
            throw ExportError.unsupported("tokenizer.ggml.model 'llama' without tokenizer.ggml.scores or merges: the merge order is unknown")
        }
        let types = data.tokenTypes ?? []
        let merges: [(String, String)]
        if let lines = data.merges, !lines.isEmpty {
            merges = lines.compactMap { line in
                line.unicodeScalars.firstIndex(of: " ").map {
                    (String(line.unicodeScalars[..<$0]), String(line.unicodeScalars[line.unicodeScalars.index(after: $0)...]))
                }
            }
        } else {
            merges = mergesFromScores(tokens: data.tokens, scores: scores)
        }
        var added: [String] = []
        for (id, token) in data.tokens.enumerated() {
            let type = id < types.count ? types[id] : 1
            // UNKNOWN (2) and CONTROL (3) are special added tokens, USER_DEFINED (4) plain added ones.
            guard type == 2 || type == 3 || type == 4 else { continue }
            added.append("{\"id\":\(id),\"content\":\(json(token)),\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                         + "\"normalized\":false,\"special\":\(type != 4)}")
        }
        let prefix = data.addSpacePrefix ?? true
        func piece(_ id: Int?) -> String? { id.flatMap { data.tokens.indices.contains($0) ? data.tokens[$0] : nil } }
        let bos = (data.addBOS ?? true) ? data.bosTokenID.flatMap { id in piece(id).map { (id, $0) } } : nil
        let eos = (data.addEOS ?? false) ? data.eosTokenID.flatMap { id in piece(id).map { (id, $0) } } : nil
        func special(_ t: (Int, String)?, _ typeID: Int) -> [String] {
            t.map { ["{\"SpecialToken\":{\"id\":\(json($0.1)),\"type_id\":\(typeID)}}"] } ?? []
        }
        let single = special(bos, 0) + ["{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}"] + special(eos, 0)
        let pair = single + special(bos, 1) + ["{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}"] + special(eos, 1)
        let specials = [bos, eos].compactMap { $0 }.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            .sorted { $0.value.unicodeScalars.lexicographicallyPrecedes($1.value.unicodeScalars) }
            .map { "\(json($0.value)):{\"id\":\(json($0.value)),\"ids\":[\($0.key)],\"tokens\":[\(json($0.value))]}" }
        let decoders = ["{\"type\":\"Replace\",\"pattern\":{\"String\":\"\u{2581}\"},\"content\":\" \"}", "{\"type\":\"ByteFallback\"}",
                        "{\"type\":\"Fuse\"}"] + (prefix ? ["{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}"] : [])
        // The vocabulary is written by hand, in id order: a Swift dictionary would merge canonically equivalent
        // pieces ("É" and "E" + U+0301 are different tokens).
        let vocab = data.tokens.enumerated().map { "\(json($1)):\($0)" }.joined(separator: ",")
        let mergeList = merges.map { "[\(json($0.0)),\(json($0.1))]" }.joined(separator: ",")
        let text = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[\(added.joined(separator: ","))],"
            + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\u{2581}\",\"prepend_scheme\":"
            + "\(prefix ? "\"first\"" : "\"never\""),\"split\":false},"
            + "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[\(single.joined(separator: ","))],"
            + "\"pair\":[\(pair.joined(separator: ","))],\"special_tokens\":{\(specials.joined(separator: ","))}},"
            + "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[\(decoders.joined(separator: ","))]},"
            + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
            + "\"end_of_word_suffix\":null,\"fuse_unk\":true,\"byte_fallback\":true,\"ignore_merges\":false,"
            + "\"vocab\":{\(vocab)},\"merges\":[\(mergeList)]}}"
        return HFTokenizerFiles(tokenizerJSON: Data(text.utf8), tokenizerConfig: try HFTokenizerFiles.config(data))
    }

    /// A JSON string literal as serde_json writes it (raw UTF-8).
    static func json(_ s: String) -> String { JSONText.quoted(s) }

    /// transformers' generate_merges for a SentencePiece vocabulary (the same rule as Tailor's GGUF reader): every
    /// split of a piece into two vocabulary pieces, ranked by the piece's score (higher first), ties in id order,
    /// then by the ids of the two parts.
    static func mergesFromScores(tokens: [String], scores: [Float]) -> [(String, String)] {
        var ids: [[UInt32]: Int] = [:]
        for (id, t) in tokens.enumerated() { ids[t.unicodeScalars.map(\.value)] = id }   // the last id wins, as in the reader
        var candidates: [(left: String, right: String, score: Float, order: Int)] = []
        for (id, piece) in tokens.enumerated() {
            let scalars = Array(piece.unicodeScalars)
            guard scalars.count > 1 else { continue }
            var local: [(String, String, Int, Int)] = []
            for cut in 1..<scalars.count {
                let l = scalars[..<cut].map(\.value), r = scalars[cut...].map(\.value)
                guard let li = ids[l], let ri = ids[r] else { continue }
                var left = String.UnicodeScalarView(), right = String.UnicodeScalarView()
                left.append(contentsOf: scalars[..<cut])
                right.append(contentsOf: scalars[cut...])
                local.append((String(left), String(right), li, ri))
            }
            local.sort { ($0.2, $0.3) < ($1.2, $1.3) }
            for entry in local { candidates.append((entry.0, entry.1, scores[id], candidates.count)) }
        }
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.order < $1.order }
        return candidates.map { ($0.left, $0.right) }
    }
}
