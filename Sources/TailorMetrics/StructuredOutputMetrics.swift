// Metrics for structured (JSON) model output: parse rate, parse rate after taking the JSON out of a fenced
// ```json block, JSON Schema validity, and field-level accuracy against reference objects.

import Foundation

/// Aggregate structured-output scores.
public struct StructuredOutputReport: Codable, Equatable, Sendable {
    /// Number of predictions.
    public var count: Int
    /// Fraction whose whole text is valid JSON (Python `json.loads` rules).
    public var parseRate: Double
    /// Fraction that parse as a whole or whose first fenced ``` block parses.
    public var extractedParseRate: Double
    /// Fraction valid against the schema (value from the extraction rule; unparseable counts as invalid); nil
    /// without a schema.
    public var schemaValidRate: Double?
    /// Matched reference leaf fields over all reference leaf fields; nil without references.
    public var fieldAccuracy: Double?
    /// Mean over examples of each example's fraction of matched leaf fields; nil without references.
    public var fieldAccuracyMacro: Double?
    /// Per example: the first schema error (path and keyword) or the parse error, for the first 20 failures.
    public var failures: [String]
}

/// Structured-output metrics.
public enum StructuredOutputMetrics {
    // The body of the first ``` fence, optionally tagged json/JSON, up to the next ```.
    private static let fence: NSRegularExpression? =
        try? NSRegularExpression(pattern: "```(?:json|JSON)?[ \\t]*\\r?\\n(.*?)```",
                                 options: [.dotMatchesLineSeparators])

    /// The JSON value of a model output: the whole text if it parses, else the first fenced ``` block (optionally
    /// tagged `json`) if its body parses, else nil.
    public static func extractJSON(_ text: String) -> MetricsJSON? {
        if let v = try? PythonJSON.parse(text) { return v }
        let ns = text as NSString
        guard let fence, let m = fence.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)),
              m.numberOfRanges > 1 else { return nil }
        return try? PythonJSON.parse(ns.substring(with: m.range(at: 1)))
    }

    /// Leaf fields of `reference` (objects and arrays are walked; empty ones and scalars are leaves) and how many
    /// of them `prediction` has at the same path with an equal value (1 == 1.0; booleans are not numbers).
    public static func fieldMatches(prediction: MetricsJSON?, reference: MetricsJSON) -> (matched: Int, total: Int) {
        var matched = 0
        var total = 0
        func walk(_ ref: MetricsJSON, _ pred: MetricsJSON?) {
            switch ref {
            case let .object(o) where o.count > 0:
                for (k, v) in o.members { walk(v, pred?.objectValue?[k]) }
            case let .array(a) where !a.isEmpty:
                let p = pred?.arrayValue
                for (i, v) in a.enumerated() { walk(v, p.flatMap { i < $0.count ? $0[i] : nil }) }
            default:
                total += 1
                if let pred, pred == ref { matched += 1 }
            }
        }
        walk(reference, prediction)
        return (matched, total)
    }

    /// Scores predictions (raw model output text) with an optional schema and optional reference values.
    /// - Throws: ``MetricsError/lengthMismatch(what:expected:actual:)`` when references are given for a different
    ///   number of examples, ``MetricsError/emptyInput(what:)``.
    public static func evaluate(predictions: [String], schema: JSONSchemaValidator? = nil,
                                references: [MetricsJSON]? = nil) throws -> StructuredOutputReport {
        guard !predictions.isEmpty else { throw MetricsError.emptyInput(what: "JSON predictions") }
        if let references, references.count != predictions.count {
            throw MetricsError.lengthMismatch(what: "JSON references", expected: predictions.count,
                                              actual: references.count)
        }
        var parsed = 0, extracted = 0, valid = 0, matched = 0, total = 0
        var macro = 0.0
        var failures: [String] = []
        func note(_ s: String) { if failures.count < 20 { failures.append(s) } }
        for (i, text) in predictions.enumerated() {
            var value: MetricsJSON?
            do {
                value = try PythonJSON.parse(text)
                parsed += 1
            } catch {
                value = extractJSON(text)
                if value == nil { note("example \(i + 1): not JSON: \(error)") }
            }
            if value != nil { extracted += 1 }
            if let schema, let value {
                let errors = schema.validate(value)
                if errors.isEmpty { valid += 1 } else { note("example \(i + 1): \(errors[0])") }
            }
            if let references {
                let m = fieldMatches(prediction: value, reference: references[i])
                matched += m.matched
                total += m.total
                macro += m.total > 0 ? Double(m.matched) / Double(m.total) : 1
            }
        }
        let n = Double(predictions.count)
        return StructuredOutputReport(
            count: predictions.count, parseRate: Double(parsed) / n, extractedParseRate: Double(extracted) / n,
            schemaValidRate: schema.map { _ in Double(valid) / n },
            fieldAccuracy: references.map { _ in total > 0 ? Double(matched) / Double(total) : 1 },
            fieldAccuracyMacro: references.map { _ in macro / n }, failures: failures)
    }
}
