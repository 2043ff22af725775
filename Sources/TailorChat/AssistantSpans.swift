// Assistant spans: which UTF-8 byte ranges of a rendered conversation training should learn, found by rendering
// the conversation incrementally.

extension ChatTemplate {
    /// Renders a conversation (without generation prompt) and returns the UTF-8 byte ranges of each assistant turn.
    ///
    /// A span covers the assistant's text plus the template's end-of-turn marker ("<|im_end|>", "<|eot_id|>", eos
    /// for Llama-2), not the role header before it nor the whitespace after it. Method, for assistant message i:
    /// P = render(messages[..<i], addGenerationPrompt: true) must be a prefix of the full rendering T; the turn ends
    /// where Q = render(messages[...i], addGenerationPrompt: false) ends, and Q must be a prefix of T too (or be one
    /// after removing a final eos that the template appends only at the very end, as Phi-3 does). The span is
    /// T[P.count ..< Q.count] without leading newlines and trailing whitespace. Templates with no end marker
    /// (ChatGLM-4) yield the content alone; a final eos after the last turn belongs to that turn.
    ///
    /// Throws `ChatTemplateError.notPrefixStable` when a template renders earlier turns differently once later turns
    /// exist (e.g. templates that drop reasoning from past turns).
    ///
    /// Templates with `{% generation %}` blocks (`hasGenerationBlocks`) are not rendered incrementally: the spans are
    /// exactly the blocks' text in one rendering, as transformers' `return_assistant_tokens_mask` (TRL's
    /// assistant-only loss) computes them.
    public func assistantSpans(conversation: [ChatMessage], bosToken: String?, eosToken: String?) throws
        -> (text: String, spans: [Range<Int>])
    {
        try assistantSpans(messages: conversation.map(\.jinjaValue), bosToken: bosToken, eosToken: eosToken)
    }

    /// `assistantSpans` over raw messages, with tools and extra variables passed to every rendering.
    public func assistantSpans(messages: [JinjaValue], bosToken: String?, eosToken: String?, tools: [JinjaValue]? = nil,
                               extraContext: [String: JinjaValue] = [:]) throws -> (text: String, spans: [Range<Int>])
    {
        func render(_ prefix: ArraySlice<JinjaValue>, _ generationPrompt: Bool) throws -> String {
            try self.render(messages: Array(prefix), addGenerationPrompt: generationPrompt, bosToken: bosToken,
                            eosToken: eosToken, tools: tools, extraContext: extraContext)
        }
        if hasGenerationBlocks {
            let (text, ranges) = try renderTracked(messages: messages, addGenerationPrompt: false, bosToken: bosToken,
                                                   eosToken: eosToken, tools: tools, documents: nil, extraContext: extraContext)
            return (text, ranges.filter { !$0.isEmpty })
        }
        let text = try render(messages[...], false)
        let full = Array(text.utf8)
        var spans: [Range<Int>] = []
        for (i, message) in messages.enumerated() where message["role"]?.stringValue == "assistant" {
            // A template may not render an empty conversation; then the turn starts at the beginning.
            let prefix = i == 0 ? ((try? render(messages[..<0], true)) ?? "") : try render(messages[..<i], true)
            let p = Array(prefix.utf8)
            guard full.starts(with: p) else {
                throw ChatTemplateError.notPrefixStable(turn: i, message: "the conversation up to this message, with "
                    + "the generation prompt, is not a prefix of the whole conversation")
            }
            let q = Array(try render(messages[...i], false).utf8)
            var end: Int
            if full.starts(with: q) {
                end = q.count
            } else if let eos = eosToken.map({ Array($0.utf8) }), !eos.isEmpty, q.count >= eos.count,
                      Array(q.suffix(eos.count)) == eos, full.starts(with: q.dropLast(eos.count))
            {
                end = q.count - eos.count
            } else {
                throw ChatTemplateError.notPrefixStable(turn: i, message: "the conversation ending with this message "
                    + "is not a prefix of the whole conversation")
            }
            guard end >= p.count else { continue }
            // Trim on scalars so multi-byte whitespace is handled; the piece starts and ends on scalar boundaries.
            let piece = String(decoding: full[p.count..<end], as: UTF8.self)
            let trailingTrimmed = pythonStrip(piece, chars: nil, leading: false, trailing: true)
            let trimmed = pythonStrip(trailingTrimmed, chars: "\r\n", leading: true, trailing: false)
            let start = p.count + (trailingTrimmed.utf8.count - trimmed.utf8.count)
            end = start + trimmed.utf8.count
            if end > start { spans.append(start..<end) }
        }
        return (text, spans)
    }
}

/// A token with the UTF-8 byte range of text it covers (from the tokenizer's offsets).
public struct TokenSpan: Sendable, Equatable {
    public var id: Int
    public var utf8Range: Range<Int>

    public init(id: Int, utf8Range: Range<Int>) {
        self.id = id
        self.utf8Range = utf8Range
    }
}

extension ChatTemplate {
    /// Marks which tokens training should learn: `mask[k]` is true when token k belongs to an assistant span.
    ///
    /// Rule: a token is trained when its byte range starts inside a span (`span.lowerBound <= start < upperBound`).
    /// So a token lying inside a span is trained; one straddling a span's end (starts inside, ends after) is
    /// trained; one straddling a span's start (starts before it, e.g. a header merged with the first content
    /// bytes) is not; empty-range tokens (a BOS the tokenizer inserts) are not. Spans must be sorted and disjoint,
    /// as `assistantSpans` returns them. Throws `invalidInput` when a token range lies outside `text`.
    public static func lossMask(text: String, spans: [Range<Int>], tokens: [TokenSpan]) throws -> [Bool] {
        let length = text.utf8.count
        var mask: [Bool] = []
        mask.reserveCapacity(tokens.count)
        for (k, token) in tokens.enumerated() {
            let r = token.utf8Range
            guard r.lowerBound >= 0, r.upperBound <= length else {
                throw ChatTemplateError.invalidInput("token \(k) (id \(token.id)) covers bytes \(r.lowerBound)..<\(r.upperBound), "
                    + "outside the \(length)-byte text; hint: the tokens must come from encoding this exact text")
            }
            guard !r.isEmpty else { mask.append(false); continue }
            // Binary search for the last span starting at or before the token start.
            var lo = 0, hi = spans.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if spans[mid].lowerBound <= r.lowerBound { lo = mid + 1 } else { hi = mid }
            }
            mask.append(lo > 0 && spans[lo - 1].contains(r.lowerBound))
        }
        return mask
    }

    /// `lossMask` for tokens given as tuples.
    public static func lossMask(text: String, spans: [Range<Int>], tokens: [(id: Int, utf8Range: Range<Int>)]) throws -> [Bool] {
        try lossMask(text: text, spans: spans, tokens: tokens.map { TokenSpan(id: $0.id, utf8Range: $0.utf8Range) })
    }
}
