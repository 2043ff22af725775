// Accuracy, per-class precision/recall/F1 and their macro, micro and weighted averages with scikit-learn's
// semantics (precision_recall_fscore_support, sklearn 1.9): labels sorted, zero_division handling, NaN skipping.

/// What a ratio with a zero denominator becomes, as scikit-learn's `zero_division` argument.
public enum ZeroDivision: String, Codable, Sendable {
    /// 0.0 (also scikit-learn's default "warn").
    case zero
    /// 1.0.
    case one
    /// NaN, which the averages then skip.
    case nan

    var value: Double {
        switch self {
        case .zero: return 0
        case .one: return 1
        case .nan: return .nan
        }
    }
}

/// Precision, recall and F1 of one kind of average.
public struct PrecisionRecallF1: Codable, Equatable, Sendable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
}

/// Scores of one label.
public struct ClassScores: Codable, Equatable, Sendable {
    public var label: String
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Number of references with this label.
    public var support: Int
}

/// The result of ``ClassificationMetrics/compute(predictions:references:labels:zeroDivision:)``.
public struct ClassificationReport: Codable, Equatable, Sendable {
    /// Fraction of examples whose prediction equals the reference.
    public var accuracy: Double
    /// One entry per label, in label order.
    public var perClass: [ClassScores]
    /// Unweighted mean over labels (NaN entries skipped).
    public var macro: PrecisionRecallF1
    /// From the summed true positives, predicted and true counts; equals accuracy for single-label data.
    public var micro: PrecisionRecallF1
    /// Mean over labels weighted by support.
    public var weighted: PrecisionRecallF1
    /// Number of examples.
    public var count: Int
}

/// Single-label classification metrics.
public enum ClassificationMetrics {
    /// Computes accuracy and precision/recall/F1 per class and averaged.
    ///
    /// - Parameters:
    ///   - predictions: Predicted label per example.
    ///   - references: True label per example.
    ///   - labels: Labels to report, in order; nil means every label seen in either list, sorted by code point
    ///     as scikit-learn's `unique_labels` sorts strings.
    ///   - zeroDivision: Value of a precision, recall or F1 whose denominator is zero.
    /// - Throws: ``MetricsError/lengthMismatch(what:expected:actual:)``, ``MetricsError/emptyInput(what:)``.
    public static func compute(predictions: [String], references: [String], labels: [String]? = nil,
                               zeroDivision: ZeroDivision = .zero) throws -> ClassificationReport {
        guard predictions.count == references.count else {
            throw MetricsError.lengthMismatch(what: "classification predictions", expected: references.count,
                                              actual: predictions.count)
        }
        guard !references.isEmpty else { throw MetricsError.emptyInput(what: "classification references") }
        let labelList = labels ?? Array(Set(predictions).union(references)).sorted(by: PythonText.codePointLess)
        var index: [String: Int] = [:]
        for (i, l) in labelList.enumerated() where index[l] == nil { index[l] = i }
        let k = labelList.count
        var tp = [Int](repeating: 0, count: k)
        var predSum = [Int](repeating: 0, count: k)
        var trueSum = [Int](repeating: 0, count: k)
        var correct = 0
        for (p, r) in zip(predictions, references) {
            if p == r { correct += 1 }
            let pi = index[p]
            let ri = index[r]
            if let pi { predSum[pi] += 1 }
            if let ri { trueSum[ri] += 1 }
            if let pi, let ri, pi == ri { tp[pi] += 1 }
        }
        let zd = zeroDivision.value
        func divide(_ n: Double, _ d: Double) -> Double { d == 0 ? zd : n / d }
        var perClass: [ClassScores] = []
        for i in 0..<k {
            // F1 from counts, 2tp / (2tp + fp + fn) = 2tp / (true + pred), as sklearn >= 1.3 computes it.
            perClass.append(ClassScores(
                label: labelList[i], precision: divide(Double(tp[i]), Double(predSum[i])),
                recall: divide(Double(tp[i]), Double(trueSum[i])),
                f1: divide(2 * Double(tp[i]), Double(trueSum[i] + predSum[i])), support: trueSum[i]))
        }
        let weights = trueSum.map(Double.init)
        func average(_ values: [Double], weights: [Double]?) -> Double {
            nanAverage(values, weights: weights)
        }
        let macro = PrecisionRecallF1(precision: average(perClass.map(\.precision), weights: nil),
                                      recall: average(perClass.map(\.recall), weights: nil),
                                      f1: average(perClass.map(\.f1), weights: nil))
        let weighted = PrecisionRecallF1(precision: average(perClass.map(\.precision), weights: weights),
                                         recall: average(perClass.map(\.recall), weights: weights),
                                         f1: average(perClass.map(\.f1), weights: weights))
        let tpAll = Double(tp.reduce(0, +))
        let predAll = Double(predSum.reduce(0, +))
        let trueAll = Double(trueSum.reduce(0, +))
        let micro = PrecisionRecallF1(precision: divide(tpAll, predAll), recall: divide(tpAll, trueAll),
                                      f1: divide(2 * tpAll, trueAll + predAll))
        return ClassificationReport(accuracy: Double(correct) / Double(references.count), perClass: perClass,
                                    macro: macro, micro: micro, weighted: weighted, count: references.count)
    }

    /// sklearn's `_nanaverage`: drop NaN entries (and their weights); NaN when nothing is left; a plain mean
    /// when the remaining weights sum to zero.
    static func nanAverage(_ values: [Double], weights: [Double]?) -> Double {
        var kept: [(Double, Double)] = []
        for (i, v) in values.enumerated() where !v.isNaN { kept.append((v, weights?[i] ?? 1)) }
        if kept.isEmpty { return .nan }
        let wsum = kept.reduce(0) { $0 + $1.1 }
        if weights == nil || wsum == 0 {
            return kept.reduce(0) { $0 + $1.0 } / Double(kept.count)
        }
        return kept.reduce(0) { $0 + $1.0 * $1.1 } / wsum
    }
}
