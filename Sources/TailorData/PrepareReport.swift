// PrepareReport: what `prepare` read, dropped, truncated and trained on, as Codable data.

/// One bin of the token-length histogram: rows with lower ≤ length < upper (the last bin includes its upper).
public struct HistogramBin: Sendable, Codable, Equatable {
    public var lower: Int
    public var upper: Int
    public var count: Int
}

/// A piece of a rendered example and whether its tokens are trained.
public struct ExampleSpan: Sendable, Codable, Equatable {
    public var text: String
    public var trained: Bool
}

/// A rendered example for the report, split into trained and masked runs.
public struct RenderedExample: Sendable, Codable, Equatable {
    public var line: Int
    public var tokens: Int
    public var trainedTokens: Int
    public var spans: [ExampleSpan]
}

/// Everything `prepare` did, for report.json, the terminal table and report.html.
public struct PrepareReport: Sendable, Codable, Equatable {
    public var source: String
    public var container: String
    public var format: String
    public var template: String?
    public var rowsRead: Int
    public var malformedSkipped: Int
    /// Samples left after cleaning and encoding.
    public var rowsKept: Int
    /// rowsRead − rowsKept: malformed, cleaned out, or nothing left to train.
    public var rowsDropped: Int
    public var rules: [RuleCount]
    /// Samples dropped because nothing was left to train after truncation.
    public var noTrainedTokens: Int
    public var maxLength: Int
    public var truncated: Int
    public var packed: Bool
    public var trainRows: Int
    public var validationRows: Int
    public var trainSamples: Int
    public var validationSamples: Int
    public var trainedTokens: Int
    public var maskedTokens: Int
    public var lengthMin: Int
    public var lengthMean: Double
    public var lengthMedian: Int
    public var lengthP95: Int
    public var lengthMax: Int
    /// Token lengths of kept samples (after truncation).
    public var lengthHistogram: [HistogramBin]
    public var examples: [RenderedExample]
    public var sampleFile: String?
    public var sampleCount: Int
}

/// Length statistics of the kept rows, as the report shows them.
struct LengthSummary {
    var sorted: [Int]
    init(_ lengths: [Int]) { sorted = lengths.sorted() }
    var min: Int { sorted.first ?? 0 }
    var max: Int { sorted.last ?? 0 }
    var mean: Double { sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count) }
    var median: Int { quantile(0.5) }
    var p95: Int { quantile(0.95) }
    func quantile(_ q: Double) -> Int {
        sorted.isEmpty ? 0 : sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }
}

extension PrepareReport {
    /// Up to `bins` equal-width bins from the shortest to the longest length (width a whole number of tokens).
    static func histogram(_ lengths: [Int], bins: Int = 16) -> [HistogramBin] {
        guard let low = lengths.min(), let high = lengths.max() else { return [] }
        let width = max(1, (high - low + bins) / bins)
        let used = (high - low) / width + 1
        var counts = [Int](repeating: 0, count: used)
        for n in lengths { counts[(n - low) / width] += 1 }
        return (0..<used).map { HistogramBin(lower: low + $0 * width, upper: low + ($0 + 1) * width, count: counts[$0]) }
    }

    /// Splits an encoded sample into runs of trained / masked text, on token boundaries.
    static func render(_ encoded: EncodedSample, line: Int) -> RenderedExample {
        let bytes = Array(encoded.text.utf8)
        var spans: [ExampleSpan] = []
        var covered = 0
        for (k, range) in encoded.tokenRanges.enumerated() where !range.isEmpty {
            let trained = encoded.labels[k] != PreparedRow.ignoreIndex
            // Bytes between tokens (none for byte-level BPE) join the following token.
            let piece = String(decoding: bytes[min(covered, range.lowerBound)..<range.upperBound], as: UTF8.self)
            covered = range.upperBound
            if let last = spans.last, last.trained == trained {
                spans[spans.count - 1].text += piece
            } else {
                spans.append(ExampleSpan(text: piece, trained: trained))
            }
        }
        return RenderedExample(line: line, tokens: encoded.inputIDs.count, trainedTokens: encoded.trainedCount, spans: spans)
    }
}
