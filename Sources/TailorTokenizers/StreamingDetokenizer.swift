// Incremental detokenization for streaming generation: text is released only once it is stable, so a multi-byte
// character split across tokens (byte-level or <0xNN> pieces) is never emitted half-finished.

/// Turns ids into text incrementally; concatenating every `append` result and `finish()` gives
/// `tokenizer.decode(allIDs, skipSpecialTokens:)` (up to decoders that strip text at the very start).
public struct StreamingDetokenizer: Sendable {
    /// The tokenizer whose `decode` is applied.
    public let tokenizer: Tokenizer
    /// Whether special tokens (e.g. `<|im_end|>`) are left out of the text.
    public let skipSpecialTokens: Bool
    private var ids: [Int] = []
    /// Start of the window re-decoded for context (decoders such as SentencePiece's strip a leading space only
    /// from the first piece, so the previous token must be decoded along with the new one).
    private var prefixOffset = 0
    private var readOffset = 0

    /// A detokenizer with nothing appended yet.
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the text that became final (possibly empty).
    public mutating func append(_ id: Int) -> String {
        ids.append(id)
        let prefix = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let full = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        // An incomplete UTF-8 sequence decodes to a trailing U+FFFD: wait for the next id.
        guard full.unicodeScalars.count > prefix.unicodeScalars.count, full.unicodeScalars.last != "\u{FFFD}" else {
            return ""
        }
        let newText = Self.suffix(of: full, after: prefix)
        prefixOffset = readOffset
        readOffset = ids.count
        return newText
    }

    /// Releases whatever is still held (e.g. a truly invalid byte sequence at the end of generation).
    public mutating func finish() -> String {
        let prefix = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let full = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        prefixOffset = ids.count
        readOffset = ids.count
        return full.unicodeScalars.count > prefix.unicodeScalars.count ? Self.suffix(of: full, after: prefix) : ""
    }

    private static func suffix(of full: String, after prefix: String) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: full.unicodeScalars.dropFirst(prefix.unicodeScalars.count))
        return String(view)
    }
}
