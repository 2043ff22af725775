// Exact match and token F1 for extractive QA with the SQuAD v1.1 evaluation script's answer normalisation.

/// SQuAD v1.1 exact match and token-level F1, each the maximum over several references.
public enum QAMetrics {
    /// SQuAD v1.1 `normalize_answer`: lowercase (Python `str.lower`), drop ASCII punctuation, replace the
    /// articles a/an/the (whole words, Python `\b` semantics) by a space, and collapse whitespace.
    public static func normalize(_ text: String) -> String {
        let lower = PythonText.lowercasedScalars(Array(text.unicodeScalars))
        let noPunct = lower.filter { !PythonText.isASCIIPunctuation($0) }
        let noArticles = removeArticles(noPunct)
        return PythonText.splitScalars(noArticles).map(PythonText.string(from:)).joined(separator: " ")
    }

    /// `re.sub(r"\b(a|an|the)\b", " ", text)`: scans left to right, non-overlapping.
    static func removeArticles(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let articles: [[Unicode.Scalar]] = [["a"], ["a", "n"], ["t", "h", "e"]]
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            let boundaryBefore = i == 0 || !PythonText.isWordCharacter(s[i - 1])
            var matched = 0
            if boundaryBefore {
                for a in articles where i + a.count <= s.count && Array(s[i..<i + a.count]) == a {
                    let end = i + a.count
                    if end == s.count || !PythonText.isWordCharacter(s[end]) { matched = a.count; break }
                }
            }
            if matched > 0 {
                out.append(" ")
                i += matched
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// 1 when the normalised prediction equals the normalised form of any reference, else 0.
    public static func exactMatch(prediction: String, references: [String]) -> Double {
        let p = normalize(prediction)
        // Code point comparison, as Python compares strings (Swift's == would equate canonical equivalents).
        return references.contains { normalize($0).unicodeScalars.elementsEqual(p.unicodeScalars) } ? 1 : 0
    }

    /// Token F1 between normalised texts, maximum over references (0 when there are none).
    public static func f1(prediction: String, references: [String]) -> Double {
        let p = PythonText.split(normalize(prediction))
        return references.map { tokenF1(p, PythonText.split(normalize($0))) }.max() ?? 0
    }

    static func tokenF1(_ prediction: [String], _ reference: [String]) -> Double {
        var counts: [[UInt32]: Int] = [:]
        for t in reference { counts[t.unicodeScalars.map(\.value), default: 0] += 1 }
        var same = 0
        for t in prediction {
            let key = t.unicodeScalars.map(\.value)
            if let c = counts[key], c > 0 { same += 1; counts[key] = c - 1 }
        }
        if same == 0 { return 0 }
        let precision = Double(same) / Double(prediction.count)
        let recall = Double(same) / Double(reference.count)
        return 2 * precision * recall / (precision + recall)
    }

    /// Corpus means in percent, as the SQuAD script reports them.
    public struct CorpusScores: Codable, Equatable, Sendable {
        /// Mean exact match × 100.
        public var exactMatch: Double
        /// Mean token F1 × 100.
        public var f1: Double
        /// Number of examples.
        public var count: Int
    }

    /// Mean exact match and F1 (× 100) over examples, each against its own references.
    /// - Throws: ``MetricsError/lengthMismatch(what:expected:actual:)``, ``MetricsError/emptyInput(what:)``.
    public static func corpus(predictions: [String], references: [[String]]) throws -> CorpusScores {
        guard predictions.count == references.count else {
            throw MetricsError.lengthMismatch(what: "QA predictions", expected: references.count,
                                              actual: predictions.count)
        }
        guard !predictions.isEmpty else { throw MetricsError.emptyInput(what: "QA predictions") }
        var em = 0.0
        var f = 0.0
        for (p, r) in zip(predictions, references) {
            em += exactMatch(prediction: p, references: r)
            f += f1(prediction: p, references: r)
        }
        let n = Double(predictions.count)
        return CorpusScores(exactMatch: 100 * em / n, f1: 100 * f / n, count: predictions.count)
    }
}
