// chrF and chrF++ as sacrebleu 2.6 computes them (defaults: character order 6, word order 0, beta 2, whitespace
// removed, no epsilon smoothing): per-order character (and word) n-gram statistics summed over the corpus, then
// the F-beta of the precision and recall averaged over the orders that have n-grams on both sides.

/// chrF with sacrebleu's options.
public struct CHRF: Sendable {
    public var charOrder = 6
    /// 2 gives chrF++.
    public var wordOrder = 0
    public var beta = 2
    public var lowercase = false
    /// Keep whitespace inside character n-grams.
    public var whitespace = false
    /// Epsilon smoothing as chrF++.py (off by default in sacrebleu).
    public var epsSmoothing = false

    public init(charOrder: Int = 6, wordOrder: Int = 0, beta: Int = 2, lowercase: Bool = false,
                whitespace: Bool = false, epsSmoothing: Bool = false) {
        self.charOrder = charOrder
        self.wordOrder = wordOrder
        self.beta = beta
        self.lowercase = lowercase
        self.whitespace = whitespace
        self.epsSmoothing = epsSmoothing
    }

    /// Corpus chrF (0...100) with sacrebleu's defaults; `references[i]` holds the references of segment i.
    public static func corpus(hypotheses: [String], references: [[String]]) throws -> Double {
        try CHRF().corpusScore(hypotheses: hypotheses, references: references)
    }

    /// `sacrebleu.sentence_chrf` with defaults.
    public static func sentence(hypothesis: String, references: [String]) -> Double {
        let c = CHRF()
        return c.fScore(c.segmentStatistics(hypothesis: hypothesis, references: references))
    }

    /// Corpus chrF with these options.
    /// - Throws: ``MetricsError/lengthMismatch(what:expected:actual:)``, ``MetricsError/emptyInput(what:)``.
    public func corpusScore(hypotheses: [String], references: [[String]]) throws -> Double {
        guard hypotheses.count == references.count else {
            throw MetricsError.lengthMismatch(what: "chrF hypotheses", expected: references.count,
                                              actual: hypotheses.count)
        }
        guard !hypotheses.isEmpty else { throw MetricsError.emptyInput(what: "chrF hypotheses") }
        var stats = [Int](repeating: 0, count: 3 * (charOrder + wordOrder))
        for (h, r) in zip(hypotheses, references) {
            for (k, v) in segmentStatistics(hypothesis: h, references: r).enumerated() { stats[k] += v }
        }
        return fScore(stats)
    }

    private typealias Counts = [[UInt32]: Int]

    private func allNgrams(_ text: String) -> [Counts] {
        var s = Array(text.unicodeScalars)
        if lowercase { s = PythonText.lowercasedScalars(s) }
        let chars: [UInt32] = whitespace ? s.map(\.value) : PythonText.splitScalars(s).flatMap { $0.map(\.value) }
        var out: [Counts] = []
        for n in stride(from: 1, through: charOrder, by: 1) {
            var c: Counts = [:]
            if chars.count >= n { for i in 0...(chars.count - n) { c[Array(chars[i..<i + n]), default: 0] += 1 } }
            out.append(c)
        }
        if wordOrder > 0 {
            let words = removePunctuation(s)
            for n in 1...wordOrder {
                var c: Counts = [:]
                if words.count >= n {
                    for i in 0...(words.count - n) {
                        var key: [UInt32] = []
                        for w in words[i..<i + n] {
                            if !key.isEmpty { key.append(0x20) }
                            key.append(contentsOf: w)
                        }
                        c[key, default: 0] += 1
                    }
                }
                out.append(c)
            }
        }
        return out
    }

    /// Splits off one leading or trailing ASCII punctuation character of each word (chrF++'s word tokenizer).
    private func removePunctuation(_ s: [Unicode.Scalar]) -> [[UInt32]] {
        var out: [[UInt32]] = []
        for w in PythonText.splitScalars(s) {
            let v = w.map(\.value)
            if v.count == 1 {
                out.append(v)
            } else if let last = w.last, PythonText.isASCIIPunctuation(last) {
                out.append(Array(v.dropLast()))
                out.append([last.value])
            } else if let first = w.first, PythonText.isASCIIPunctuation(first) {
                out.append([first.value])
                out.append(Array(v.dropFirst()))
            } else {
                out.append(v)
            }
        }
        return out
    }

    /// [hyp, ref, match] per order against the reference with the best F (the first on ties).
    func segmentStatistics(hypothesis: String, references: [String]) -> [Int] {
        let hyp = allNgrams(hypothesis)
        var best: [Int] = [Int](repeating: 0, count: 3 * (charOrder + wordOrder))
        var bestF = -1.0
        for r in references {
            let ref = allNgrams(r)
            var stats: [Int] = []
            for (h, rc) in zip(hyp, ref) {
                var match = 0, hypCount = 0
                for (g, c) in h {
                    hypCount += c
                    if let x = rc[g] { match += min(c, x) }
                }
                stats += [rc.isEmpty ? 0 : hypCount, rc.values.reduce(0, +), match]
            }
            let f = fScore(stats)
            if f > bestF {
                bestF = f
                best = stats
            }
        }
        return best
    }

    /// sacrebleu's `_compute_f_score`, 0...100.
    func fScore(_ stats: [Int]) -> Double {
        let eps = 1e-16
        let factor = Double(beta * beta)
        var score = 0.0
        var effective = 0
        var avgPrec = 0.0, avgRec = 0.0
        for i in 0..<(charOrder + wordOrder) {
            let nHyp = stats[3 * i], nRef = stats[3 * i + 1], nMatch = stats[3 * i + 2]
            let prec = nHyp > 0 ? Double(nMatch) / Double(nHyp) : eps
            let rec = nRef > 0 ? Double(nMatch) / Double(nRef) : eps
            let denom = factor * prec + rec
            score += denom > 0 ? (1 + factor) * prec * rec / denom : eps
            if nHyp > 0 && nRef > 0 {
                avgPrec += prec
                avgRec += rec
                effective += 1
            }
        }
        if epsSmoothing { return 100 * score / Double(charOrder + wordOrder) }
        if effective == 0 {
            avgPrec = 0
            avgRec = 0
        } else {
            avgPrec /= Double(effective)
            avgRec /= Double(effective)
        }
        if avgPrec + avgRec != 0 {
            return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec))
        }
        return 0
    }
}
