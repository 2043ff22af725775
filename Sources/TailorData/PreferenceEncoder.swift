// Tokenizing preference rows as TRL 1.16.0's DPOTrainer does (trl/trainer/dpo_trainer.py `_prepare_dataset`):
// an implicit prompt is split off as the shared prefix (trl/data_utils.py `extract_prompt`); strings get EOS appended
// and are tokenized with special tokens; conversations go through the chat template (the prompt with the generation
// prompt); the completion starts where prompt and prompt+completion ids diverge.
import Foundation
import TailorChat
import TailorTokenizers

public struct PreferenceEncoder: Sendable {
    public let tokenizer: Tokenizer
    public let template: ChatTemplate?

    public init(tokenizer: Tokenizer, template: ChatTemplate?) {
        self.tokenizer = tokenizer
        self.template = template
    }

    /// Encodes one record with "chosen", "rejected" and optionally "prompt" (strings, or lists of messages).
    public func encode(_ record: JinjaValue, path: String, line: Int) throws -> PreferencePair {
        func field(_ key: String) throws -> JinjaValue {
            guard let value = record[key], value != .none else { throw DataError.missingField(path: path, line: line, field: key, format: "preference") }
            return value
        }
        var chosen = try field("chosen"), rejected = try field("rejected")
        var prompt = record["prompt"] ?? .none
        if prompt == .none {
            (prompt, chosen, rejected) = try Self.extractPrompt(chosen: chosen, rejected: rejected, path: path, line: line)
        }
        if case let .string(p) = prompt, case let .string(c) = chosen, case let .string(r) = rejected {
            func ids(_ text: String) -> [Int32] { tokenizer.encode(text, addSpecialTokens: true).map(Int32.init) }
            return split(prompt: ids(p), full: [ids(p + withEOS(c)), ids(p + withEOS(r))])
        }
        let names = ["prompt", "chosen", "rejected"]
        let messages = try [prompt, chosen, rejected].enumerated().map { i, value in
            guard case let .array(list) = value else {
                throw DataError.invalidField(path: path, line: line, field: names[i],
                                             message: "prompt, chosen and rejected must all be strings or all lists of messages")
            }
            return try list.map { m -> ChatMessage in
                do { return try ChatMessage(m) } catch {
                    throw DataError.invalidField(path: path, line: line, field: names[i], message: "\(error)")
                }
            }
        }
        guard let template else {
            throw DataError.template(path: path, line: line, message: "the model has no chat template (hint: pass --template NAME or a .jinja file)")
        }
        func ids(_ conversation: [ChatMessage], generation: Bool) throws -> [Int32] {
            do {
                let text = try template.render(conversation: conversation, addGenerationPrompt: generation,
                                               bosToken: template.bosToken ?? tokenizer.bosToken, eosToken: template.eosToken ?? tokenizer.eosToken)
                return tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
            } catch {
                throw DataError.template(path: path, line: line, message: "\(error)")
            }
        }
        return split(prompt: try ids(messages[0], generation: true),
                     full: [try ids(messages[0] + messages[1], generation: false), try ids(messages[0] + messages[2], generation: false)])
    }

    /// TRL: the completion starts after the longest prefix shared by the prompt ids and both prompt+completion ids.
    func split(prompt: [Int32], full: [[Int32]]) -> PreferencePair {
        let n = full.map { ids in zip(prompt, ids).prefix { $0 == $1 }.count }.min() ?? 0
        return PreferencePair(promptIDs: Array(prompt.prefix(n)), chosenIDs: Array(full[0].dropFirst(n)),
                                 rejectedIDs: Array(full[1].dropFirst(n)))
    }

    /// TRL's add_eos: append the EOS text unless the string already ends with it.
    func withEOS(_ text: String) -> String {
        guard let eos = template?.eosToken ?? tokenizer.eosToken, !eos.isEmpty, !text.hasSuffix(eos) else { return text }
        return text + eos
    }

    /// TRL's extract_prompt: the longest shared prefix of chosen and rejected (messages, or characters with a
    /// space before the divergence left to the completions).
    static func extractPrompt(chosen: JinjaValue, rejected: JinjaValue, path: String, line: Int) throws -> (JinjaValue, JinjaValue, JinjaValue) {
        switch (chosen, rejected) {
        case let (.string(c), .string(r)):
            let a = Array(c), b = Array(r)
            var i = 0
            while i < min(a.count, b.count), a[i] == b[i] { i += 1 }
            if i < min(a.count, b.count), i > 0, a[i - 1] == " " { i -= 1 }
            return (.string(String(a[..<i])), .string(String(a[i...])), .string(String(b[i...])))
        case let (.array(c), .array(r)):
            var i = 0
            while i < min(c.count, r.count), c[i] == r[i] { i += 1 }
            return (.array(Array(c[..<i])), .array(Array(c[i...])), .array(Array(r[i...])))
        default:
            throw DataError.invalidField(path: path, line: line, field: "chosen", message: "chosen and rejected must both be strings or both lists of messages")
        }
    }
}
