// The Porter stemmer exactly as NLTK's PorterStemmer in its default NLTK_EXTENSIONS mode (nltk 3.10), which the
// rouge-score package uses for use_stemmer=True. Step numbers follow Porter (1980); "m" is the measure, the
// number of vowel-consonant sequences in [C](VC)^m[V].

/// NLTK's Porter stemmer (mode NLTK_EXTENSIONS).
public struct PorterStemmer: Sendable {
    public init() {}

    private typealias Word = [Unicode.Scalar]

    /// Irregular forms NLTK maps directly.
    private static let pool: [String: String] = [
        "sky": "sky", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
        "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
        "cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed", "exceed": "exceed",
        "succeed": "succeed",
    ]

    /// Stems one word (lowercased first, as NLTK's `stem(word, to_lowercase=True)`).
    public func stem(_ word: String) -> String {
        let lower = PythonText.lowercased(word)
        if let irregular = Self.pool[lower] { return irregular }
        if word.unicodeScalars.count <= 2 { return lower }
        var w = Array(lower.unicodeScalars)
        w = step1a(w)
        w = step1b(w)
        w = step1c(w)
        w = step2(w)
        w = step3(w)
        w = step4(w)
        w = step5a(w)
        w = step5b(w)
        return PythonText.string(from: w)
    }

    // MARK: - Letter classes

    private static func isVowelLetter(_ c: Unicode.Scalar) -> Bool {
        c == "a" || c == "e" || c == "i" || c == "o" || c == "u"
    }

    /// A consonant is not a vowel letter, and "y" is a consonant unless preceded by a consonant.
    private func consonantFlags(_ w: Word) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(w.count)
        for (i, c) in w.enumerated() {
            if Self.isVowelLetter(c) {
                flags.append(false)
            } else if c == "y" {
                flags.append(i == 0 ? true : !flags[i - 1])
            } else {
                flags.append(true)
            }
        }
        return flags
    }

    private func isConsonant(_ w: Word, _ i: Int) -> Bool { consonantFlags(Array(w[0...i]))[i] }

    /// m: the count of "vc" transitions in the consonant/vowel pattern.
    private func measure(_ w: Word) -> Int {
        let f = consonantFlags(w)
        var m = 0
        if f.count >= 2 { for i in 1..<f.count where !f[i - 1] && f[i] { m += 1 } }
        return m
    }

    private func containsVowel(_ w: Word) -> Bool { consonantFlags(w).contains(false) }

    /// *d: ends with a double consonant.
    private func endsDoubleConsonant(_ w: Word) -> Bool {
        w.count >= 2 && w[w.count - 1] == w[w.count - 2] && isConsonant(w, w.count - 1)
    }

    /// *o: ends consonant-vowel-consonant with the last not w, x or y; NLTK also accepts a two-letter
    /// vowel-consonant word.
    private func endsCVC(_ w: Word) -> Bool {
        let n = w.count
        if n >= 3 && isConsonant(w, n - 3) && !isConsonant(w, n - 2) && isConsonant(w, n - 1)
            && !["w", "x", "y"].contains(w[n - 1]) {
            return true
        }
        return n == 2 && !isConsonant(w, 0) && isConsonant(w, 1)
    }

    // MARK: - Rule application

    private struct Rule {
        /// nil marks NLTK's "*d" pseudo-suffix (a double consonant).
        var suffix: Word?
        var replacement: Word
        var condition: ((Word) -> Bool)?
    }

    private func rule(_ suffix: String, _ replacement: String, _ condition: ((Word) -> Bool)? = nil) -> Rule {
        Rule(suffix: Array(suffix.unicodeScalars), replacement: Array(replacement.unicodeScalars),
             condition: condition)
    }

    private func endsWith(_ w: Word, _ suffix: Word) -> Bool {
        w.count >= suffix.count && Array(w[(w.count - suffix.count)...]) == suffix
    }

    /// The first rule whose suffix matches decides: its replacement if the condition holds, else the word as is.
    private func apply(_ w: Word, _ rules: [Rule]) -> Word {
        for r in rules {
            guard let suffix = r.suffix else {
                if endsDoubleConsonant(w) {
                    let stem = Array(w.dropLast(2))
                    return (r.condition?(stem) ?? true) ? stem + r.replacement : w
                }
                continue
            }
            if endsWith(w, suffix) {
                let stem = Array(w.dropLast(suffix.count))
                return (r.condition?(stem) ?? true) ? stem + r.replacement : w
            }
        }
        return w
    }

    private func replaceSuffix(_ w: Word, _ count: Int, _ replacement: String) -> Word {
        Array(w.dropLast(count)) + Array(replacement.unicodeScalars)
    }

    // MARK: - Steps

    private func step1a(_ w: Word) -> Word {
        if endsWith(w, ["i", "e", "s"]) && w.count == 4 { return replaceSuffix(w, 3, "ie") }
        return apply(w, [rule("sses", "ss"), rule("ies", "i"), rule("ss", "ss"), rule("s", "")])
    }

    private func step1b(_ w: Word) -> Word {
        if endsWith(w, ["i", "e", "d"]) { return replaceSuffix(w, 3, w.count == 4 ? "ie" : "i") }
        if endsWith(w, ["e", "e", "d"]) {
            let stem = Array(w.dropLast(3))
            return measure(stem) > 0 ? stem + ["e", "e"] : w
        }
        var intermediate: Word?
        for suffix: Word in [["e", "d"], ["i", "n", "g"]] where endsWith(w, suffix) {
            let stem = Array(w.dropLast(suffix.count))
            if containsVowel(stem) { intermediate = stem; break }
        }
        guard let stem = intermediate, let last = stem.last else { return w }
        return apply(stem, [
            rule("at", "ate"), rule("bl", "ble"), rule("iz", "ize"),
            Rule(suffix: nil, replacement: [last], condition: { _ in !["l", "s", "z"].contains(last) }),
            rule("", "e") { self.measure($0) == 1 && self.endsCVC($0) },
        ])
    }

    private func step1c(_ w: Word) -> Word {
        apply(w, [rule("y", "i") { $0.count > 1 && self.isConsonant($0, $0.count - 1) }])
    }

    private func step2(_ w: Word) -> Word {
        if endsWith(w, ["a", "l", "l", "i"]) && measure(Array(w.dropLast(4))) > 0 {
            return step2(replaceSuffix(w, 4, "al"))
        }
        let positive: (Word) -> Bool = { self.measure($0) > 0 }
        let rules = [
            rule("ational", "ate", positive), rule("tional", "tion", positive), rule("enci", "ence", positive),
            rule("anci", "ance", positive), rule("izer", "ize", positive), rule("bli", "ble", positive),
            rule("alli", "al", positive), rule("entli", "ent", positive), rule("eli", "e", positive),
            rule("ousli", "ous", positive), rule("ization", "ize", positive), rule("ation", "ate", positive),
            rule("ator", "ate", positive), rule("alism", "al", positive), rule("iveness", "ive", positive),
            rule("fulness", "ful", positive), rule("ousness", "ous", positive), rule("aliti", "al", positive),
            rule("iviti", "ive", positive), rule("biliti", "ble", positive), rule("fulli", "ful", positive),
            // NLTK tests the measure of the word minus "ogi", not minus "logi".
            rule("logi", "log") { _ in self.measure(Array(w.dropLast(3))) > 0 },
        ]
        return apply(w, rules)
    }

    private func step3(_ w: Word) -> Word {
        let positive: (Word) -> Bool = { self.measure($0) > 0 }
        return apply(w, [
            rule("icate", "ic", positive), rule("ative", "", positive), rule("alize", "al", positive),
            rule("iciti", "ic", positive), rule("ical", "ic", positive), rule("ful", "", positive),
            rule("ness", "", positive),
        ])
    }

    private func step4(_ w: Word) -> Word {
        let gt1: (Word) -> Bool = { self.measure($0) > 1 }
        return apply(w, [
            rule("al", "", gt1), rule("ance", "", gt1), rule("ence", "", gt1), rule("er", "", gt1),
            rule("ic", "", gt1), rule("able", "", gt1), rule("ible", "", gt1), rule("ant", "", gt1),
            rule("ement", "", gt1), rule("ment", "", gt1), rule("ent", "", gt1),
            rule("ion", "") { self.measure($0) > 1 && ($0.last == "s" || $0.last == "t") },
            rule("ou", "", gt1), rule("ism", "", gt1), rule("ate", "", gt1), rule("iti", "", gt1),
            rule("ous", "", gt1), rule("ive", "", gt1), rule("ize", "", gt1),
        ])
    }

    private func step5a(_ w: Word) -> Word {
        guard w.last == "e" else { return w }
        let stem = Array(w.dropLast())
        let m = measure(stem)
        if m > 1 || (m == 1 && !endsCVC(stem)) { return stem }
        return w
    }

    private func step5b(_ w: Word) -> Word {
        apply(w, [rule("ll", "l") { _ in self.measure(Array(w.dropLast())) > 1 }])
    }
}
