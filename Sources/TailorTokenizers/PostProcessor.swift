// Post-processors of tokenizer.json: TemplateProcessing (BOS/EOS around the sequence), ByteLevel (offsets only),
// Roberta/Bert (cls ... sep) and Sequence. Applied only when encoding with addSpecialTokens.

enum TemplatePiece: Sendable, Equatable {
    case special(ids: [Int])
    case sequence
}

indirect enum PostProcessor: Sendable {
    case template(single: [TemplatePiece])
    /// ByteLevel only changes offsets: with `trimOffsets`, leading/trailing spaces ("Ġ") leave a token's range.
    case byteLevel(trimOffsets: Bool, addPrefixSpace: Bool)
    case sequence([PostProcessor])

    /// Wraps `tokens` as the single-sequence template says; added ids get the empty range 0..<0.
    func process(_ tokens: [EncodedToken]) -> [EncodedToken] {
        switch self {
        case .byteLevel:
            return tokens
        case .sequence(let steps):
            var current = tokens
            for step in steps { current = step.process(current) }
            return current
        case .template(let single):
            var output: [EncodedToken] = []
            output.reserveCapacity(tokens.count + 2)
            for piece in single {
                switch piece {
                case .sequence:
                    output.append(contentsOf: tokens)
                case .special(let ids):
                    // tokenizers gives added special tokens the offsets (0, 0).
                    for id in ids { output.append(EncodedToken(id: id, utf8Range: 0..<0)) }
                }
            }
            return output
        }
    }

    /// When a ByteLevel step trims offsets: its add_prefix_space flag; nil when no step trims.
    var byteLevelTrim: Bool? {
        switch self {
        case .byteLevel(let trim, let addPrefixSpace): return trim ? addPrefixSpace : nil
        case .sequence(let steps): return steps.lazy.compactMap { $0.byteLevelTrim }.first
        case .template: return nil
        }
    }

    /// tokenizers' byte_level::process_offsets for one token: spaces ("Ġ" or whitespace) at either end of the
    /// token's text leave its range, counted in characters as the library does.
    static func trim(_ range: Range<Int>, text: String, isFirst: Bool, addPrefixSpace: Bool) -> Range<Int> {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == "\u{120}" || scalar.properties.isWhitespace }
        let scalars = Array(text.unicodeScalars)
        var leading = scalars.prefix(while: isSpace).count
        let trailing = scalars.reversed().prefix(while: isSpace).count
        var lower = range.lowerBound, upper = range.upperBound
        if leading > 0 {
            if isFirst && addPrefixSpace && leading == 1 { leading = 0 }
            lower = min(lower + leading, upper)
        }
        if trailing > 0 && upper >= trailing { upper = max(upper - trailing, lower) }
        return lower..<upper
    }

    /// Ids the template puts before the sequence, and after it.
    var affixes: (prefix: [Int], suffix: [Int]) {
        switch self {
        case .byteLevel:
            return ([], [])
        case .sequence(let steps):
            var prefix: [Int] = [], suffix: [Int] = []
            for step in steps {
                let (p, s) = step.affixes
                prefix += p
                suffix = s + suffix
            }
            return (prefix, suffix)
        case .template(let single):
            var prefix: [Int] = [], suffix: [Int] = []
            var seen = false
            for piece in single {
                switch piece {
                case .sequence: seen = true
                case .special(let ids): if seen { suffix += ids } else { prefix += ids }
                }
            }
            return (prefix, suffix)
        }
    }
}
