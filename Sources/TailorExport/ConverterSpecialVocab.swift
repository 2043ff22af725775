// The special-token keys llama.cpp's converter writes (gguf-py SpecialVocab): special ids from tokenizer_config.json's
// *_token entries looked up in tokenizer.json's added_tokens, then config.json's *_token_id; add_bos/add_eos/add_sep
// from the TemplateProcessing post-processor, overridden by tokenizer_config's add_*_token; the chat template.
import Foundation
import TailorFormats

/// gguf-py's SpecialVocab for a Hugging Face folder, in the order it writes its keys.
struct ConverterSpecialVocab {
    /// Special ids by type ("bos", "eos", "unk", "sep", "pad", "mask", …), first value found wins.
    private(set) var ids: [(type: String, id: Int)] = []
    /// add_<type>_token flags in the order they were first set.
    private(set) var add: [(type: String, value: Bool)] = []
    private(set) var chatTemplate: String?
    private var types = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]
    private let vocabCount: Int

    /// Reads `folder`'s tokenizer_config.json, chat_template.jinja / .json and config.json; `tokenizer` is the parsed
    /// tokenizer.json. `vocabCount` bounds the ids (out-of-range ids are skipped, as gguf-py does).
    init(folder: URL, tokenizer: [String: Any], vocabCount: Int) {
        self.vocabCount = vocabCount
        let added = (tokenizer["added_tokens"] as? [[String: Any]]) ?? []
        var config = Self.object(folder.appendingPathComponent("tokenizer_config.json"))
        func string(_ key: String) -> String? { config?[key] as? String }
        var bos = string("bos_token"), eos = string("eos_token"), sep = string("sep_token")
        let cls = string("cls_token")
        if bos == nil, let cls, config != nil { config?["bos_token"] = cls; bos = cls }
        if eos == nil, let sep, config != nil { config?["eos_token"] = sep; eos = sep }
        if let post = tokenizer["post_processor"] as? [String: Any] {
            for processor in (post["processors"] as? [[String: Any]]) ?? [post] {
                if processor["type"] as? String == "RobertaProcessing" {
                    setAdd("bos", true); setAdd("eos", true); setAdd("sep", true)
                } else if processor["type"] as? String == "TemplateProcessing" {
                    templateFlags(processor, bos: &bos, eos: &eos, sep: sep, cls: cls, config: &config)
                }
            }
        }
        if let config {
            let jinja = folder.appendingPathComponent("chat_template.jinja")
            var alternative = (try? String(contentsOf: jinja, encoding: .utf8))
            if alternative == nil { alternative = Self.object(folder.appendingPathComponent("chat_template.json"))?["chat_template"] as? String }
            chatTemplate = (config["chat_template"] as? String) ?? alternative
            for type in types {
                if let flag = config["add_\(type)_token"] as? Bool { setAdd(type, flag) }
                let content: String?
                if let text = config["\(type)_token"] as? String { content = text } else { content = (config["\(type)_token"] as? [String: Any])?["content"] as? String }
                guard let content else { continue }
                setSpecial(type, added.first { $0["content"] as? String == content }?["id"] as? Int)
            }
        }
        if let model = Self.object(folder.appendingPathComponent("config.json")) {
            for type in types { setSpecial(type, model["\(type)_token_id"] as? Int) }
        }
    }

    /// gguf-py's crude reading of TemplateProcessing: a leading special token that is BOS sets add_bos, a trailing
    /// one sets add_eos (a trailing token other than EOS becomes EOS, the old one EOT), a separator sets add_sep.
    private mutating func templateFlags(_ processor: [String: Any], bos: inout String?, eos: inout String?, sep: String?, cls: String?,
                                        config: inout [String: Any]?) {
        func special(_ piece: [String: Any]?) -> String? { (piece?["SpecialToken"] as? [String: Any])?["id"] as? String }
        func sequence(_ piece: [String: Any]?) -> String? { (piece?["Sequence"] as? [String: Any])?["id"] as? String }
        let single = (processor["single"] as? [[String: Any]]) ?? []
        var pair = (processor["pair"] as? [[String: Any]]) ?? []
        var first: String?, last: String?
        if single.count > 1 {
            if let f = special(single.first) {
                first = f
                if config == nil { bos = f }
                setAdd("bos", f == bos || f == cls)
            }
            if let l = special(single.last) {
                last = l
                if config == nil {
                    eos = l
                } else if l != eos {
                    if !types.contains("eot") { types.append("eot"); config?["eot_token"] = eos } else if !types.contains("eom") { types.append("eom"); config?["eom_token"] = eos }
                    config?["eos_token"] = l
                    eos = l
                }
                setAdd("eos", l == eos)
            }
        }
        guard !pair.isEmpty else { return }
        let start = first != nil && special(pair.first) == first ? 1 : 0
        let stop = last != nil && special(pair.last) == last ? pair.count - 1 : pair.count
        pair = start < stop ? Array(pair[start..<stop]) : []
        guard !pair.isEmpty, sequence(pair.first) == "A", sequence(pair.last) == "B", pair.count > 2 else { return }
        let middle = Array(pair[1..<(pair.count - 1)])
        var addSep = false
        if let entry = special(middle.first), (entry == sep || entry == eos), last == nil { addSep = true }
        if middle.count == 2, let entry = special(middle[1]), entry == sep || entry == eos { addSep = true }
        setAdd("sep", addSep)
        if addSep, sep == nil, config != nil { config?["sep_token"] = eos }
    }

    private mutating func setAdd(_ type: String, _ value: Bool) {
        if let i = add.firstIndex(where: { $0.type == type }) { add[i].value = value } else { add.append((type, value)) }
    }

    private mutating func setSpecial(_ type: String, _ id: Int?) {
        guard let id, id >= 0, id < vocabCount, !ids.contains(where: { $0.type == type }) else { return }
        ids.append((type, id))
    }

    private static func object(_ url: URL) -> [String: Any]? { TokenizerJSONFile.object(url) }

    /// The GGUF keys, in gguf-py's order: ids, add flags, chat template. Types without a GGUF key (cls) are skipped.
    var keys: [(key: String, value: GGUFValue)] {
        let idKeys = ["bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "sep": "seperator_token_id",
                      "pad": "padding_token_id", "mask": "mask_token_id", "eot": "eot_token_id", "eom": "eom_token_id"]
        var out: [(key: String, value: GGUFValue)] = ids.compactMap { entry in
            idKeys[entry.type].map { ("tokenizer.ggml.\($0)", .uint32(UInt32(entry.id))) }
        }
        out += add.filter { ["bos", "eos", "sep"].contains($0.type) }.map { ("tokenizer.ggml.add_\($0.type)_token", .bool($0.value)) }
        if let chatTemplate { out.append(("tokenizer.chat_template", .string(chatTemplate))) }
        return out
    }
}
