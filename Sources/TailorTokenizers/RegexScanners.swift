// Hand-written scanners for the pre-tokenizer regexes of GPT-2, Llama-3 and Qwen2. Each returns the matches the
// regex finds (leftmost, first alternative that succeeds, Oniguruma backtracking) over a range of scalars.
//
// GPT-2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Llama-3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//          \s*[\r\n]+|\s+(?!\S)|\s+          (Qwen2: \p{N} instead of \p{N}{1,3})
// Every scalar is a letter, number, space or "other", so the matches tile the range with no gaps.

enum RegexScanner {
    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    private static let kinds = CharClass.letter | CharClass.number | CharClass.space

    /// End of the run of scalars starting at `index` whose letter/number/space kind equals `kind`.
    @inline(__always)
    private static func run(_ classes: [UInt8], from index: Int, to upper: Int, kind: UInt8) -> Int {
        var end = index
        while end < upper && classes[end] & kinds == kind { end += 1 }
        return end
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d` at `index` (which holds an apostrophe); `ignoreCase` follows Unicode case
    /// folding as Oniguruma applies it (only U+017F LONG S folds onto one of these letters besides ASCII case).
    @inline(__always)
    private static func contraction(_ s: [Unicode.Scalar], at index: Int, upper: Int, ignoreCase: Bool) -> Int? {
        guard index + 1 < upper else { return nil }
        func lower(_ scalar: Unicode.Scalar) -> UInt32 {
            let value = scalar.value
            guard ignoreCase else { return value }
            if value >= 0x41 && value <= 0x5A { return value + 32 }
            if value == 0x17F { return 0x73 }
            return value
        }
        let first = lower(s[index + 1])
        switch first {
        case 0x73, 0x74, 0x6D, 0x64: return index + 2  // s t m d
        case 0x72, 0x76:                                // re ve
            if index + 2 < upper && lower(s[index + 2]) == 0x65 { return index + 3 }
        case 0x6C:                                      // ll
            if index + 2 < upper && lower(s[index + 2]) == 0x6C { return index + 3 }
        default: break
        }
        return nil
    }

    /// `\s+(?!\S)|\s+` for the whitespace run starting at `index`.
    @inline(__always)
    private static func whitespace(_ classes: [UInt8], from index: Int, to upper: Int) -> Int {
        let end = run(classes, from: index, to: upper, kind: CharClass.space)
        if end == upper { return end }          // (?!\S) holds at the end of the text
        if end - 1 > index { return end - 1 }   // back off one so the next char is whitespace
        return index + 1                        // plain \s+ of length one
    }

    static func gpt2(_ text: WorkText, _ range: Range<Int>, into matches: inout [Range<Int>]) {
        let s = text.scalars, c = text.classes
        let upper = range.upperBound
        var i = range.lowerBound
        while i < upper {
            let kind = c[i] & kinds
            var end: Int
            if s[i] == "'", let e = contraction(s, at: i, upper: upper, ignoreCase: false) {
                end = e
            } else if s[i] == " " && i + 1 < upper && c[i + 1] & CharClass.space == 0 {
                end = run(c, from: i + 1, to: upper, kind: c[i + 1] & kinds)
            } else if kind != CharClass.space {
                end = run(c, from: i, to: upper, kind: kind)
            } else {
                end = whitespace(c, from: i, to: upper)
            }
            matches.append(i..<end)
            i = end
        }
    }

    static func llama3(_ text: WorkText, _ range: Range<Int>, maxDigits: Int, into matches: inout [Range<Int>]) {
        let s = text.scalars, c = text.classes
        let upper = range.upperBound
        var i = range.lowerBound
        while i < upper {
            let kind = c[i] & kinds
            let isLineBreak = s[i] == "\r" || s[i] == "\n"
            var end: Int
            if s[i] == "'", let e = contraction(s, at: i, upper: upper, ignoreCase: true) {
                end = e
            } else if kind == CharClass.letter {
                end = run(c, from: i, to: upper, kind: CharClass.letter)
            } else if kind != CharClass.number && !isLineBreak && i + 1 < upper && c[i + 1] & kinds == CharClass.letter {
                end = run(c, from: i + 1, to: upper, kind: CharClass.letter)
            } else if kind == CharClass.number {
                end = min(run(c, from: i, to: upper, kind: CharClass.number), i + maxDigits)
            } else if kind == 0 || (s[i] == " " && i + 1 < upper && c[i + 1] & kinds == 0) {
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                end = run(c, from: kind == 0 ? i : i + 1, to: upper, kind: 0)
                while end < upper && (s[end] == "\r" || s[end] == "\n") { end += 1 }
            } else {
                // `\s*[\r\n]+`: greedy \s* backs off to the last line break of the whitespace run.
                let runEnd = run(c, from: i, to: upper, kind: CharClass.space)
                var lastBreak = -1
                var k = runEnd - 1
                while k >= i {
                    if s[k] == "\r" || s[k] == "\n" { lastBreak = k; break }
                    k -= 1
                }
                end = lastBreak >= 0 ? lastBreak + 1 : whitespace(c, from: i, to: upper)
            }
            matches.append(i..<end)
            i = end
        }
    }
}
