// Corpus and sentence BLEU as sacrebleu 2.6 computes them: 13a tokenization, clipped n-gram counts against the
// per-n-gram maximum over references, closest reference length (shorter wins ties), brevity penalty, and the
// "exp" (NIST) smoothing by default.

import Foundation

/// A BLEU result with its sufficient statistics, in sacrebleu's units (score and precisions in 0...100).
public struct BLEUScore: Codable, Equatable, Sendable {
    public var score: Double
    /// Clipped matching n-grams per order.
    public var counts: [Int]
    /// Hypothesis n-grams per order.
    public var totals: [Int]
    /// Smoothed precisions per order, × 100.
    public var precisions: [Double]
    /// Brevity penalty.
    public var bp: Double
    /// Hypothesis length in tokens.
    public var sysLen: Int
    /// Effective reference length in tokens.
    public var refLen: Int
}

/// BLEU with sacrebleu's options.
public struct BLEU: Sendable {
    /// Smoothing of zero n-gram precisions (Chen and Cherry 2014).
    public enum Smoothing: Sendable, Equatable {
        /// No smoothing.
        case none
        /// Method 1: a zero count becomes `value` (sacrebleu default 0.1).
        case floor(Double)
        /// Method 2: add `value` to counts and totals of orders above 1 (sacrebleu default 1).
        case addK(Double)
        /// Method 3, NIST: the k-th zero precision becomes 100 / (2^k · total). sacrebleu's default.
        case exp
    }

    /// Tokenizer applied to every segment.
    public enum Tokenization: String, Sendable {
        /// sacrebleu's default 13a tokenizer.
        case thirteenA = "13a"
        /// Whitespace split only.
        case none
    }

    public var lowercase = false
    public var tokenization = Tokenization.thirteenA
    public var smoothing = Smoothing.exp
    public var maxOrder = 4
    /// Stop at the last order with hypothesis n-grams (sacrebleu's `effective_order`; true for sentence BLEU).
    public var effectiveOrder = false

    public init(lowercase: Bool = false, tokenization: Tokenization = .thirteenA, smoothing: Smoothing = .exp,
                maxOrder: Int = 4, effectiveOrder: Bool = false) {
        self.lowercase = lowercase
        self.tokenization = tokenization
        self.smoothing = smoothing
        self.maxOrder = maxOrder
        self.effectiveOrder = effectiveOrder
    }

    /// Corpus BLEU with sacrebleu's defaults.
    /// - Parameters:
    ///   - hypotheses: One string per segment.
    ///   - references: For each segment, its references (any number ≥ 1; sacrebleu's `None` = leave it out).
    public static func corpus(hypotheses: [String], references: [[String]]) throws -> BLEUScore {
        try BLEU().corpusScore(hypotheses: hypotheses, references: references)
    }

    /// `sacrebleu.sentence_bleu`: defaults with effective order.
    public static func sentence(hypothesis: String, references: [String]) -> BLEUScore {
        BLEU(effectiveOrder: true).sentenceScore(hypothesis: hypothesis, references: references)
    }

    /// Corpus BLEU with these options.
    /// - Throws: ``MetricsError/lengthMismatch(what:expected:actual:)``, ``MetricsError/emptyInput(what:)``.
    public func corpusScore(hypotheses: [String], references: [[String]]) throws -> BLEUScore {
        guard hypotheses.count == references.count else {
            throw MetricsError.lengthMismatch(what: "BLEU hypotheses", expected: references.count,
                                              actual: hypotheses.count)
        }
        guard !hypotheses.isEmpty else { throw MetricsError.emptyInput(what: "BLEU hypotheses") }
        var stats = [Int](repeating: 0, count: 2 + 2 * maxOrder)
        for (h, r) in zip(hypotheses, references) {
            for (k, v) in segmentStatistics(hypothesis: h, references: r).enumerated() { stats[k] += v }
        }
        return compute(stats)
    }

    /// BLEU of one segment with these options.
    public func sentenceScore(hypothesis: String, references: [String]) -> BLEUScore {
        compute(segmentStatistics(hypothesis: hypothesis, references: references))
    }

    /// Lowercases (optionally), strips trailing whitespace and tokenizes, returning the tokens.
    public func tokens(_ segment: String) -> [[UInt32]] {
        var s = Array(segment.unicodeScalars)
        if lowercase { s = PythonText.lowercasedScalars(s) }
        s = PythonText.rstrip(s)
        let text = tokenization == .thirteenA ? Tokenizer13a.tokenize(PythonText.string(from: s))
            : PythonText.string(from: s)
        return PythonText.splitScalars(Array(text.unicodeScalars)).map { $0.map(\.value) }
    }

    /// n-grams as code point arrays with 0x110000 (outside Unicode) between tokens: exact Python tuple equality.
    private func ngrams(_ toks: [[UInt32]]) -> [[UInt32]: Int] {
        var c: [[UInt32]: Int] = [:]
        for n in 1...maxOrder where toks.count >= n {
            for i in 0...(toks.count - n) {
                var key: [UInt32] = []
                for t in toks[i..<i + n] {
                    if !key.isEmpty { key.append(0x110000) }
                    key.append(contentsOf: t)
                }
                c[key, default: 0] += 1
            }
        }
        return c
    }

    /// [hyp_len, ref_len, correct_1..N, total_1..N] for one segment.
    func segmentStatistics(hypothesis: String, references: [String]) -> [Int] {
        var refMax: [[UInt32]: Int] = [:]
        var refLens: [Int] = []
        for r in references {
            let toks = tokens(r)
            refLens.append(toks.count)
            for (g, c) in ngrams(toks) { refMax[g] = max(refMax[g] ?? 0, c) }
        }
        let hyp = tokens(hypothesis)
        // Closest reference length; the shorter one on a tie.
        var closestDiff = -1, closestLen = -1
        for len in refLens {
            let diff = abs(hyp.count - len)
            if closestDiff == -1 || diff < closestDiff {
                closestDiff = diff
                closestLen = len
            } else if diff == closestDiff && len < closestLen {
                closestLen = len
            }
        }
        var correct = [Int](repeating: 0, count: maxOrder)
        var total = [Int](repeating: 0, count: maxOrder)
        for (g, c) in ngrams(hyp) {
            let n = g.reduce(0) { $0 + ($1 == 0x110000 ? 1 : 0) }
            total[n] += c
            if let r = refMax[g] { correct[n] += min(c, r) }
        }
        return [hyp.count, closestLen] + correct + total
    }

    /// sacrebleu's `compute_bleu` from summed statistics.
    func compute(_ stats: [Int]) -> BLEUScore {
        let sysLen = stats[0], refLen = stats[1]
        var correct = stats[2..<2 + maxOrder].map(Double.init)
        var total = stats[(2 + maxOrder)...].map(Double.init)
        var bp = 1.0
        if sysLen < refLen { bp = sysLen > 0 ? exp(1 - Double(refLen) / Double(sysLen)) : 0 }
        var precisions = [Double](repeating: 0, count: maxOrder)
        let result = { (score: Double) in
            BLEUScore(score: score, counts: Array(stats[2..<2 + maxOrder]), totals: Array(stats[(2 + maxOrder)...]),
                      precisions: precisions, bp: bp, sysLen: sysLen, refLen: refLen)
        }
        if !correct.contains(where: { $0 != 0 }) { return result(0) }
        var smoothMteval = 1.0
        var effOrder = maxOrder
        for n in 1...maxOrder {
            if case let .addK(k) = smoothing, n > 1 {
                correct[n - 1] += k
                total[n - 1] += k
            }
            if total[n - 1] == 0 { break }
            if effectiveOrder { effOrder = n }
            if correct[n - 1] == 0 {
                switch smoothing {
                case .exp:
                    smoothMteval *= 2
                    precisions[n - 1] = 100.0 / (smoothMteval * total[n - 1])
                case let .floor(v):
                    precisions[n - 1] = 100.0 * v / total[n - 1]
                case .none, .addK:
                    break
                }
            } else {
                precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
            }
        }
        // sacrebleu's my_log floors log(0) at -9999999999.
        var logSum = 0.0
        for p in precisions[0..<effOrder] { logSum += p == 0 ? -9_999_999_999 : log(p) }
        return result(bp * exp(logSum / Double(effOrder)))
    }
}
