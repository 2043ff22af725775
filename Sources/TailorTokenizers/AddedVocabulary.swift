// Added and special tokens (tokenizer.json "added_tokens"): found in the text before the model runs, with
// tokenizers' rules — leftmost-longest matching, then single_word, lstrip and rstrip applied to each match.

/// One entry of `added_tokens`.
public struct AddedToken: Sendable, Equatable {
    /// The token's id.
    public var id: Int
    /// The text that is matched in the input and that the token decodes to.
    public var content: String
    /// Matched only when not preceded or followed by a word character (Rust regex \w).
    public var singleWord: Bool
    /// `lstrip`: the match absorbs the whitespace before it.
    public var leftStrip: Bool
    /// `rstrip`: the match absorbs the whitespace after it.
    public var rightStrip: Bool
    /// Matched on normalized text (by its normalized content) rather than on the raw input.
    public var normalized: Bool
    /// Special tokens are dropped by `decode(_:skipSpecialTokens: true)`.
    public var special: Bool

    /// An `added_tokens` entry.
    public init(id: Int, content: String, singleWord: Bool = false, leftStrip: Bool = false, rightStrip: Bool = false,
                normalized: Bool = false, special: Bool = true) {
        self.id = id
        self.content = content
        self.singleWord = singleWord
        self.leftStrip = leftStrip
        self.rightStrip = rightStrip
        self.normalized = normalized
        self.special = special
    }
}

/// A segment of text: either an added token's id, or text for the normalizer/model.
struct Segment {
    var range: Range<Int>
    var id: Int?
}

struct AddedTokenMatcher: Sendable {
    struct Pattern: Sendable {
        var scalars: [Unicode.Scalar]
        var token: AddedToken
    }

    /// Patterns grouped by first scalar, longest first (leftmost-longest matching).
    private let byFirst: [UInt32: [Pattern]]
    private let asciiFirst: [Bool]

    var isEmpty: Bool { byFirst.isEmpty }

    init(tokens: [AddedToken], contents: [[Unicode.Scalar]]) {
        var groups: [UInt32: [Pattern]] = [:]
        var ascii = [Bool](repeating: false, count: 128)
        for (token, scalars) in zip(tokens, contents) where !scalars.isEmpty {
            groups[scalars[0].value, default: []].append(Pattern(scalars: scalars, token: token))
            if scalars[0].value < 128 { ascii[Int(scalars[0].value)] = true }
        }
        for key in groups.keys { groups[key]?.sort { $0.scalars.count > $1.scalars.count } }
        byFirst = groups
        asciiFirst = ascii
    }

    /// tokenizers' AddedVocabulary::find_matches over `range` (the "sentence").
    func split(_ text: WorkText, _ range: Range<Int>, into output: inout [Segment]) {
        if byFirst.isEmpty {
            output.append(Segment(range: range, id: nil))
            return
        }
        let s = text.scalars, c = text.classes
        var startOffset = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            let value = s[i].value
            if value < 128 ? !asciiFirst[Int(value)] : byFirst[value] == nil { i += 1; continue }
            guard let candidates = byFirst[value],
                  let pattern = candidates.first(where: { p in
                      p.scalars.count <= range.upperBound - i
                          && s[i..<(i + p.scalars.count)].elementsEqual(p.scalars)
                  })
            else { i += 1; continue }
            var start = i
            var stop = i + pattern.scalars.count
            i = stop  // non-overlapping iteration continues after the raw match
            let token = pattern.token
            if token.singleWord {
                let startSpace = start == range.lowerBound || c[start - 1] & CharClass.word == 0
                let stopSpace = stop == range.upperBound || c[stop] & CharClass.word == 0
                if !startSpace || !stopSpace { continue }
            }
            if token.leftStrip {
                var newStart = start
                while newStart > range.lowerBound && c[newStart - 1] & CharClass.space != 0 { newStart -= 1 }
                start = max(newStart, startOffset)
            }
            if token.rightStrip {
                while stop < range.upperBound && c[stop] & CharClass.space != 0 { stop += 1 }
            }
            if startOffset < start { output.append(Segment(range: startOffset..<start, id: nil)) }
            output.append(Segment(range: start..<stop, id: token.id))
            startOffset = stop
        }
        if startOffset < range.upperBound { output.append(Segment(range: startOffset..<range.upperBound, id: nil)) }
    }
}
