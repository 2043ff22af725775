// ROUGE-1/2/L/Lsum as Google's rouge-score package (0.1.2) computes them: its tokenizer (lowercase, runs of
// [a-z0-9], Porter stemming of tokens longer than 3 characters), n-gram overlap, LCS, and summary-level LCS over
// newline-separated sentences.

/// Precision, recall and F-measure of one ROUGE type.
public struct RougeScore: Codable, Equatable, Sendable {
    public var precision: Double
    public var recall: Double
    public var fmeasure: Double

    static let zero = RougeScore(precision: 0, recall: 0, fmeasure: 0)

    init(precision: Double, recall: Double) {
        self.precision = precision
        self.recall = recall
        // rouge_score.scoring.fmeasure
        fmeasure = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }

    init(precision: Double, recall: Double, fmeasure: Double) {
        self.precision = precision
        self.recall = recall
        self.fmeasure = fmeasure
    }
}

/// ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum of one prediction.
public struct RougeScores: Codable, Equatable, Sendable {
    public var rouge1: RougeScore
    public var rouge2: RougeScore
    public var rougeL: RougeScore
    public var rougeLsum: RougeScore
}

/// ROUGE scoring compatible with the rouge-score package.
public enum Rouge {
    private static let stemmer = PorterStemmer()

    /// rouge-score's `tokenize`: lowercase, replace every character outside [a-z0-9] by a space, split, and
    /// stem tokens longer than three characters when `useStemmer` is set.
    public static func tokenize(_ text: String, useStemmer: Bool) -> [String] {
        let lower = PythonText.lowercasedScalars(Array(text.unicodeScalars))
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            guard !current.isEmpty else { return }
            let token = String(current)
            current = String.UnicodeScalarView()
            let t = useStemmer && token.unicodeScalars.count > 3 ? stemmer.stem(token) : token
            if !t.isEmpty { tokens.append(t) }
        }
        for s in lower {
            if (s.value >= 0x61 && s.value <= 0x7A) || (s.value >= 0x30 && s.value <= 0x39) {
                current.append(s)
            } else {
                flush()
            }
        }
        flush()
        return tokens
    }

    /// Scores one prediction against one reference (`RougeScorer.score(target, prediction)`).
    public static func score(prediction: String, reference: String, useStemmer: Bool = false) -> RougeScores {
        let r = tokenize(reference, useStemmer: useStemmer)
        let p = tokenize(prediction, useStemmer: useStemmer)
        let refSents = sentences(reference).map { tokenize($0, useStemmer: useStemmer) }
        let predSents = sentences(prediction).map { tokenize($0, useStemmer: useStemmer) }
        return RougeScores(rouge1: ngramScore(r, p, n: 1), rouge2: ngramScore(r, p, n: 2), rougeL: lcsScore(r, p),
                           rougeLsum: summaryLCSScore(refSents, predSents))
    }

    /// `RougeScorer.score_multi`: per ROUGE type, the score against the reference with the highest F-measure
    /// (the first one on ties).
    public static func scoreMulti(prediction: String, references: [String], useStemmer: Bool = false) -> RougeScores {
        let all = references.map { score(prediction: prediction, reference: $0, useStemmer: useStemmer) }
        func best(_ key: KeyPath<RougeScores, RougeScore>) -> RougeScore {
            var result = RougeScore.zero
            var bestF = -Double.infinity
            for s in all where s[keyPath: key].fmeasure > bestF {
                bestF = s[keyPath: key].fmeasure
                result = s[keyPath: key]
            }
            return result
        }
        return RougeScores(rouge1: best(\.rouge1), rouge2: best(\.rouge2), rougeL: best(\.rougeL),
                           rougeLsum: best(\.rougeLsum))
    }

    /// Corpus aggregate: the mean of each per-example precision, recall and F-measure, the way rouge-score users
    /// usually report it (no bootstrap).
    /// - Throws: ``MetricsError/lengthMismatch(what:expected:actual:)``, ``MetricsError/emptyInput(what:)``.
    public static func corpus(predictions: [String], references: [[String]],
                              useStemmer: Bool = false) throws -> RougeScores {
        guard predictions.count == references.count else {
            throw MetricsError.lengthMismatch(what: "ROUGE predictions", expected: references.count,
                                              actual: predictions.count)
        }
        guard !predictions.isEmpty else { throw MetricsError.emptyInput(what: "ROUGE predictions") }
        let all = zip(predictions, references).map {
            $1.count == 1 ? score(prediction: $0, reference: $1[0], useStemmer: useStemmer)
                : scoreMulti(prediction: $0, references: $1, useStemmer: useStemmer)
        }
        func mean(_ key: KeyPath<RougeScores, RougeScore>) -> RougeScore {
            let n = Double(all.count)
            var p = 0.0, r = 0.0, f = 0.0
            for s in all { p += s[keyPath: key].precision; r += s[keyPath: key].recall; f += s[keyPath: key].fmeasure }
            return RougeScore(precision: p / n, recall: r / n, fmeasure: f / n)
        }
        return RougeScores(rouge1: mean(\.rouge1), rouge2: mean(\.rouge2), rougeL: mean(\.rougeL),
                           rougeLsum: mean(\.rougeLsum))
    }

    /// Sentences for ROUGE-Lsum: the text split on "\n", empty pieces dropped.
    static func sentences(_ text: String) -> [String] {
        // Split on the code point, not on Characters: "\r\n" is one Character in Swift.
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: true).map { String($0) }
    }

    static func ngramScore(_ target: [String], _ prediction: [String], n: Int) -> RougeScore {
        func grams(_ t: [String]) -> [String: Int] {
            var c: [String: Int] = [:]
            if t.count >= n { for i in 0...(t.count - n) { c[t[i..<i + n].joined(separator: " "), default: 0] += 1 } }
            return c
        }
        let tg = grams(target)
        let pg = grams(prediction)
        var overlap = 0
        for (g, c) in tg { overlap += min(c, pg[g] ?? 0) }
        let tCount = tg.values.reduce(0, +)
        let pCount = pg.values.reduce(0, +)
        return RougeScore(precision: Double(overlap) / Double(max(pCount, 1)),
                          recall: Double(overlap) / Double(max(tCount, 1)))
    }

    /// Dynamic-programming LCS table, (rows+1) × (cols+1), row-major.
    static func lcsTable(_ ref: [String], _ can: [String]) -> [Int] {
        let cols = can.count + 1
        var t = [Int](repeating: 0, count: (ref.count + 1) * cols)
        for i in stride(from: 1, through: ref.count, by: 1) {
            for j in stride(from: 1, through: can.count, by: 1) {
                t[i * cols + j] = ref[i - 1] == can[j - 1] ? t[(i - 1) * cols + j - 1] + 1
                    : max(t[(i - 1) * cols + j], t[i * cols + j - 1])
            }
        }
        return t
    }

    static func lcsScore(_ target: [String], _ prediction: [String]) -> RougeScore {
        if target.isEmpty || prediction.isEmpty { return .zero }
        let lcs = lcsTable(target, prediction).last ?? 0
        return RougeScore(precision: Double(lcs) / Double(prediction.count),
                          recall: Double(lcs) / Double(target.count))
    }

    /// Indices into `ref` of one LCS, read back the way rouge-score's `_backtrack_norec` does (its tie-breaking
    /// decides which tokens count in the union).
    static func lcsIndices(_ ref: [String], _ can: [String]) -> [Int] {
        let t = lcsTable(ref, can)
        let cols = can.count + 1
        var i = ref.count, j = can.count
        var out: [Int] = []
        while i > 0 && j > 0 {
            if ref[i - 1] == can[j - 1] {
                out.append(i - 1)
                i -= 1
                j -= 1
            } else if t[i * cols + j - 1] > t[(i - 1) * cols + j] {
                j -= 1
            } else {
                i -= 1
            }
        }
        return out.reversed()
    }

    /// Summary-level LCS (Lin 2004, section 3.2): union LCS of each reference sentence against all candidate
    /// sentences, each token counted at most as often as it occurs in both texts.
    static func summaryLCSScore(_ refSents: [[String]], _ canSents: [[String]]) -> RougeScore {
        if refSents.isEmpty || canSents.isEmpty { return .zero }
        let m = refSents.reduce(0) { $0 + $1.count }
        let n = canSents.reduce(0) { $0 + $1.count }
        if m == 0 || n == 0 { return .zero }
        var countsR: [String: Int] = [:]
        var countsC: [String: Int] = [:]
        for s in refSents { for t in s { countsR[t, default: 0] += 1 } }
        for s in canSents { for t in s { countsC[t, default: 0] += 1 } }
        var hits = 0
        for r in refSents {
            var union = Set<Int>()
            for c in canSents { union.formUnion(lcsIndices(r, c)) }
            for idx in union.sorted() {
                let tok = r[idx]
                if let c = countsC[tok], c > 0, let rc = countsR[tok], rc > 0 {
                    hits += 1
                    countsC[tok] = c - 1
                    countsR[tok] = rc - 1
                }
            }
        }
        return RougeScore(precision: Double(hits) / Double(n), recall: Double(hits) / Double(m))
    }
}
