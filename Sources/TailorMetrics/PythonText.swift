// Text primitives that behave exactly like the Python built-ins the reference metrics use (str.split,
// str.lower, re's \w, string.punctuation), so that tokenisation matches code point for code point.

/// Python-compatible text helpers shared by the metrics.
///
/// Python strings are sequences of Unicode code points; these helpers work on `Unicode.Scalar` arrays for the
/// same reason (Swift `Character`s are grapheme clusters, which would merge "e" + combining accent).
public enum PythonText {
    /// `str.isspace()` for one code point: the ASCII whitespace of `_Py_ascii_whitespace` plus every code point
    /// with bidirectional class WS, B or S or general category Zs.
    public static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `str.split()` with no separator: runs of whitespace separate fields, empty fields are dropped.
    public static func split(_ text: String) -> [String] {
        splitScalars(Array(text.unicodeScalars)).map(string(from:))
    }

    /// `str.split()` on code points, returning each field as its code points.
    public static func splitScalars(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var fields: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in scalars {
            if isWhitespace(s) {
                if !current.isEmpty { fields.append(current); current.removeAll(keepingCapacity: true) }
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { fields.append(current) }
        return fields
    }

    /// `str.rstrip()` with no argument.
    public static func rstrip(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var end = scalars.count
        while end > 0 && isWhitespace(scalars[end - 1]) { end -= 1 }
        return Array(scalars[0..<end])
    }

    /// `str.lower()`: the full lowercase mapping of each code point, with CPython's Final_Sigma rule for
    /// U+03A3 (Σ becomes ς after a cased letter when no cased letter follows, skipping case-ignorables).
    public static func lowercased(_ text: String) -> String {
        string(from: lowercasedScalars(Array(text.unicodeScalars)))
    }

    /// `str.lower()` on code points.
    public static func lowercasedScalars(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        for (i, s) in scalars.enumerated() {
            if s.value < 0x80 {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value + 32) ?? s : s)
            } else if s.value == 0x3A3 {
                out.append(Unicode.Scalar(isFinalSigma(scalars, at: i) ? 0x3C2 : 0x3C3) ?? s)
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && scalars[j].properties.isCased else { return false }
        var k = i + 1
        while k < scalars.count && scalars[k].properties.isCaseIgnorable { k += 1 }
        return k == scalars.count || !scalars[k].properties.isCased
    }

    /// Python `re`'s `\w` for str patterns: letters (Lu, Ll, Lt, Lm, Lo), anything with a numeric value, and "_".
    public static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 {
            let v = s.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return s.properties.numericType != nil
        }
    }

    /// `string.punctuation`: the 32 ASCII punctuation characters.
    public static func isASCIIPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    /// Builds a String from code points.
    public static func string<C: Sequence>(from scalars: C) -> String where C.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Orders strings by code point, as Python's `sorted` does (Swift's `<` compares canonical equivalents).
    public static func codePointLess(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
    }
}
