// sacrebleu's default "13a" tokenizer (mteval-v13a.pl as reimplemented in sacrebleu 2.6), on code points.

/// The 13a tokenizer used by sacrebleu's BLEU by default.
public enum Tokenizer13a {
    /// Tokenizes one segment and returns the tokens joined by single spaces, as sacrebleu's `Tokenizer13a`.
    public static func tokenize(_ line: String) -> String {
        var s = Array(line.unicodeScalars)
        s = replace(s, "<skipped>", "")
        s = replace(s, "-\n", "")
        s = replace(s, "\n", " ")
        if s.contains("&") {
            s = replace(s, "&quot;", "\"")
            s = replace(s, "&amp;", "&")
            s = replace(s, "&lt;", "<")
            s = replace(s, "&gt;", ">")
        }
        s = [" "] + s + [" "]
        // 1. ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 ": most ASCII punctuation and symbols stand alone.
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count * 2)
        for c in s {
            if isSymbol(c) { out.append(" "); out.append(c); out.append(" ") } else { out.append(c) }
        }
        // 2. ([^0-9])([\.,]) -> "\1 \2 ": period and comma unless preceded by a digit.
        out = rewritePairs(out, { !isDigit($0) }, { $0 == "." || $0 == "," }) { a, b in [a, " ", b, " "] }
        // 3. ([\.,])([^0-9]) -> " \1 \2": period and comma unless followed by a digit.
        out = rewritePairs(out, { $0 == "." || $0 == "," }, { !isDigit($0) }) { a, b in [" ", a, " ", b] }
        // 4. ([0-9])(-) -> "\1 \2 ": a dash after a digit.
        out = rewritePairs(out, isDigit, { $0 == "-" }) { a, b in [a, " ", b, " "] }
        return PythonText.splitScalars(out).map(PythonText.string(from:)).joined(separator: " ")
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

    private static func isSymbol(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F: return true
        default: return false
        }
    }

    /// `re.sub` of a two-character pattern: scan left to right, replace non-overlapping matches.
    private static func rewritePairs(_ s: [Unicode.Scalar], _ first: (Unicode.Scalar) -> Bool,
                                     _ second: (Unicode.Scalar) -> Bool,
                                     _ make: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count + s.count / 2)
        var i = 0
        while i < s.count {
            if i + 1 < s.count && first(s[i]) && second(s[i + 1]) {
                out.append(contentsOf: make(s[i], s[i + 1]))
                i += 2
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// `str.replace(old, new)`: every non-overlapping occurrence, left to right.
    static func replace(_ s: [Unicode.Scalar], _ old: String, _ new: String) -> [Unicode.Scalar] {
        let o = Array(old.unicodeScalars)
        let n = Array(new.unicodeScalars)
        guard !o.isEmpty, s.count >= o.count else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if i + o.count <= s.count && s[i] == o[0] && Array(s[i..<i + o.count]) == o {
                out.append(contentsOf: n)
                i += o.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
