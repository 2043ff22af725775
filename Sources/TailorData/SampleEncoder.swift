// Tokenizing samples into input ids and labels: chat template + assistant-only masks, prompt/completion and text
// rows with TRL's EOS and loss rules.
import Foundation
import TailorChat
import TailorTokenizers

/// A tokenized sample; `labels[k]` is `inputIDs[k]` for trained tokens and -100 elsewhere.
public struct EncodedSample: Sendable, Equatable {
    public var inputIDs: [Int32]
    public var labels: [Int32]
    /// The text that was tokenized and each token's UTF-8 range in it (for rendered examples in the report).
    public var text: String
    public var tokenRanges: [Range<Int>]

    /// Tokens that count in the loss.
    public var trainedCount: Int { labels.filter { $0 != PreparedRow.ignoreIndex }.count }
}

/// Encodes samples with one tokenizer and (for conversations) one chat template.
///
/// - Conversations: the template renders the whole chat (no generation prompt); the text is tokenized without the
///   tokenizer's special-token post-processing, as transformers' `apply_chat_template(tokenize=True)` does. If the
///   tokenizer would add a BOS and the rendering does not already start with it, one BOS is put in front (so
///   BOS appears exactly once either way); it is never trained. Trained tokens are those that overlap an assistant
///   span (assistant content and tool calls + end-of-turn marker, `ChatTemplate.assistantSpans`; tool results are
///   not trained) — transformers' rule for
///   `return_assistant_tokens_mask`, which TRL's assistant_only_loss uses — or every token with `trainOnPrompt`.
/// - Prompt/completion (TRL): the completion gets EOS appended unless it already ends with it; ids are the
///   encoding of prompt + completion with special tokens; the first `encode(prompt).count` tokens are masked
///   (all trained with `trainOnPrompt`).
/// - Text (TRL): EOS appended unless present; every token trained.
public struct SampleEncoder: Sendable {
    public let tokenizer: Tokenizer
    public let template: ChatTemplate?
    public var trainOnPrompt: Bool

    public init(tokenizer: Tokenizer, template: ChatTemplate?, trainOnPrompt: Bool = false) {
        self.tokenizer = tokenizer
        self.template = template
        self.trainOnPrompt = trainOnPrompt
    }

    var bosToken: String? { template?.bosToken ?? tokenizer.bosToken }
    var eosToken: String? { template?.eosToken ?? tokenizer.eosToken }

    /// Encodes `sample`; `path`/`line` name the record in errors.
    public func encode(_ sample: Sample, path: String = "<input>", line: Int = 0) throws -> EncodedSample {
        switch sample {
        case let .conversation(messages, tools):
            guard let template else {
                throw DataError.template(path: path, line: line, message: "the model has no chat template (hint: pass --template NAME or a .jinja file)")
            }
            let text: String, spans: [Range<Int>]
            do {
                (text, spans) = try template.assistantSpans(messages: messages.map(\.jinjaValue), bosToken: bosToken,
                                                            eosToken: eosToken, tools: tools)
            } catch {
                throw DataError.template(path: path, line: line, message: "\(error)")
            }
            var tokens = tokenizer.encodeWithOffsets(text, addSpecialTokens: false)
            if tokenizer.addsBOS, let bos = tokenizer.bosTokenID, let bosText = tokenizer.bosToken, !text.hasPrefix(bosText) {
                tokens.insert(EncodedToken(id: bos, utf8Range: 0..<0), at: 0)
            }
            let mask = trainOnPrompt ? [Bool](repeating: true, count: tokens.count) : Self.overlapMask(tokens.map(\.utf8Range), spans: spans)
            return Self.make(tokens, mask: mask, text: text)
        case let .promptCompletion(prompt, completion):
            let full = prompt + withEOS(completion)
            let tokens = tokenizer.encodeWithOffsets(full, addSpecialTokens: true)
            let promptCount = tokenizer.encode(prompt, addSpecialTokens: true).count
            let mask = tokens.indices.map { trainOnPrompt || $0 >= promptCount }
            return Self.make(tokens, mask: mask, text: full)
        case let .text(text):
            let full = withEOS(text)
            let tokens = tokenizer.encodeWithOffsets(full, addSpecialTokens: true)
            return Self.make(tokens, mask: [Bool](repeating: true, count: tokens.count), text: full)
        }
    }

    /// TRL's add_eos: append the EOS text unless the string already ends with it.
    func withEOS(_ text: String) -> String {
        guard let eos = eosToken, !eos.isEmpty, !text.hasSuffix(eos) else { return text }
        return text + eos
    }

    /// transformers' assistant-mask rule: a token is trained when its range overlaps a span (so a token straddling
    /// a span edge is trained, an empty-range token never is). Spans must be sorted and disjoint.
    public static func overlapMask(_ ranges: [Range<Int>], spans: [Range<Int>]) -> [Bool] {
        var mask = [Bool](repeating: false, count: ranges.count)
        var s = 0
        for (k, r) in ranges.enumerated() {
            while s < spans.count && r.lowerBound >= spans[s].upperBound { s += 1 }
            if s == spans.count { break }
            if r.upperBound > spans[s].lowerBound && !r.isEmpty { mask[k] = true }
        }
        return mask
    }

    static func make(_ tokens: [EncodedToken], mask: [Bool], text: String) -> EncodedSample {
        let ids = tokens.map { Int32(truncatingIfNeeded: $0.id) }
        let labels = zip(ids, mask).map { $1 ? $0 : PreparedRow.ignoreIndex }
        return EncodedSample(inputIDs: ids, labels: labels, text: text, tokenRanges: tokens.map(\.utf8Range))
    }
}
