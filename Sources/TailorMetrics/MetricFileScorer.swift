// Reads predictions and references files and scores them with one metric; what `tailor eval score` calls.
//
// File formats, chosen by extension: `.jsonl`, `.ndjson` and `.json` are JSON Lines, anything else is plain text
// with one example per line. A JSONL line is a JSON string, or an object with "prediction" (predictions file) and
// "reference" (a string) or "references" (an array of strings) (references file); one file holding both fields
// can be passed as both arguments. Blank JSONL lines are skipped; a final newline does not make an extra example.

import Foundation

/// Options of ``MetricFileScorer``.
public struct ScoringOptions: Sendable {
    /// ROUGE with the Porter stemmer (rouge-score's `use_stemmer`; default false as in the package).
    public var rougeStemmer = false
    /// scikit-learn's `zero_division` for accuracy and f1.
    public var zeroDivision = ZeroDivision.zero

    public init(rougeStemmer: Bool = false, zeroDivision: ZeroDivision = .zero) {
        self.rougeStemmer = rougeStemmer
        self.zeroDivision = zeroDivision
    }
}

/// Scores prediction files against reference files.
public enum MetricFileScorer {
    /// One example as read from a file.
    public struct Example: Sendable {
        /// 1-based line number in its file.
        public var line: Int
        /// The text(s): one for predictions, one or more for references.
        public var texts: [String]
        /// The JSON value of the field, when the line was JSON (used by the json metric).
        public var value: MetricsJSON?
    }

    /// Reads both files and computes `metric`.
    /// - Throws: ``MetricsError`` naming the file and line: unreadable file, invalid JSON line, missing field,
    ///   count mismatch, invalid schema, or empty input.
    public static func score(predictionsURL: URL, referencesURL: URL, metric: EvalMetric, schemaURL: URL? = nil,
                             options: ScoringOptions = ScoringOptions()) throws -> MetricReport {
        let predictions = try read(predictionsURL, role: .prediction)
        let references = try read(referencesURL, role: .reference)
        guard predictions.count == references.count else {
            throw MetricsError.countMismatch(predictionsPath: predictionsURL.path, predictionCount: predictions.count,
                                             referencesPath: referencesURL.path, referenceCount: references.count)
        }
        guard !predictions.isEmpty else { throw MetricsError.emptyInput(what: predictionsURL.path) }
        var schema: JSONSchemaValidator?
        if let schemaURL { schema = try loadSchema(schemaURL) }
        var report = try score(predictions: predictions, references: references, metric: metric, schema: schema,
                               options: options)
        report.predictionsPath = predictionsURL.path
        report.referencesPath = referencesURL.path
        report.schemaPath = schemaURL?.path
        return report
    }

    /// Scores examples already in memory (paths in the report are left empty).
    public static func score(predictions: [Example], references: [Example], metric: EvalMetric,
                             schema: JSONSchemaValidator? = nil,
                             options: ScoringOptions = ScoringOptions()) throws -> MetricReport {
        guard predictions.count == references.count else {
            throw MetricsError.lengthMismatch(what: "references", expected: predictions.count,
                                              actual: references.count)
        }
        let preds = predictions.map { $0.texts.first ?? "" }
        let refs = references.map(\.texts)
        var report = MetricReport(metric: metric, predictionsPath: "", referencesPath: "", schemaPath: nil,
                                  count: preds.count, scores: [], perClass: nil, failures: nil, notes: [])
        switch metric {
        case .accuracy, .f1:
            if refs.contains(where: { $0.count > 1 }) {
                report.notes.append("several references per example: classification uses the first")
            }
            let r = try ClassificationMetrics.compute(predictions: preds, references: refs.map { $0.first ?? "" },
                                                      zeroDivision: options.zeroDivision)
            report.scores = [
                MetricScore(name: "accuracy", value: r.accuracy, unit: "fraction"),
                MetricScore(name: "macro_f1", value: r.macro.f1, unit: "fraction"),
                MetricScore(name: "micro_f1", value: r.micro.f1, unit: "fraction"),
                MetricScore(name: "weighted_f1", value: r.weighted.f1, unit: "fraction"),
                MetricScore(name: "macro_precision", value: r.macro.precision, unit: "fraction"),
                MetricScore(name: "macro_recall", value: r.macro.recall, unit: "fraction"),
            ]
            report.perClass = r.perClass
        case .em:
            let r = try QAMetrics.corpus(predictions: preds, references: refs)
            report.scores = [MetricScore(name: "exact_match", value: r.exactMatch, unit: "percent"),
                             MetricScore(name: "f1", value: r.f1, unit: "percent")]
        case .rouge:
            let r = try Rouge.corpus(predictions: preds, references: refs, useStemmer: options.rougeStemmer)
            for (name, s) in [("rouge1", r.rouge1), ("rouge2", r.rouge2), ("rougeL", r.rougeL),
                              ("rougeLsum", r.rougeLsum)] {
                report.scores.append(MetricScore(name: name, value: s.fmeasure, unit: "fraction"))
            }
            for (name, s) in [("rouge1", r.rouge1), ("rouge2", r.rouge2), ("rougeL", r.rougeL),
                              ("rougeLsum", r.rougeLsum)] {
                report.scores.append(MetricScore(name: name + "_precision", value: s.precision, unit: "fraction"))
                report.scores.append(MetricScore(name: name + "_recall", value: s.recall, unit: "fraction"))
            }
            report.notes.append("mean over examples of per-example scores; stemmer \(options.rougeStemmer ? "on" : "off")"
                                + (refs.contains { $0.count > 1 } ? "; best reference per example by F" : ""))
        case .bleu:
            let b = try BLEU.corpus(hypotheses: preds, references: refs)
            report.scores = [MetricScore(name: "bleu", value: b.score, unit: "percent")]
            for (i, p) in b.precisions.enumerated() {
                report.scores.append(MetricScore(name: "precision_\(i + 1)", value: p, unit: "percent"))
            }
            report.scores += [
                MetricScore(name: "brevity_penalty", value: b.bp, unit: "ratio"),
                MetricScore(name: "length_ratio", value: b.refLen > 0 ? Double(b.sysLen) / Double(b.refLen) : 0,
                            unit: "ratio"),
                MetricScore(name: "sys_len", value: Double(b.sysLen), unit: "count"),
                MetricScore(name: "ref_len", value: Double(b.refLen), unit: "count"),
            ]
            report.notes.append("sacrebleu defaults: tokenize 13a, smooth exp, mixed case")
        case .chrf:
            let c = try CHRF.corpus(hypotheses: preds, references: refs)
            report.scores = [MetricScore(name: "chrf", value: c, unit: "percent")]
            report.notes.append("sacrebleu defaults: char order 6, word order 0, beta 2")
        case .json:
            let values = references.map(\.value)
            let usable = values.allSatisfy { v in v.map { if case .object = $0 { return true }
                if case .array = $0 { return true }
                return false } ?? false }
            if !usable {
                report.notes.append("references are not all JSON objects or arrays: field accuracy not computed")
            }
            let r = try StructuredOutputMetrics.evaluate(predictions: preds, schema: schema,
                                                         references: usable ? values.compactMap { $0 } : nil)
            report.scores = [MetricScore(name: "parse_rate", value: r.parseRate, unit: "fraction"),
                             MetricScore(name: "parse_rate_fenced", value: r.extractedParseRate, unit: "fraction")]
            if let v = r.schemaValidRate { report.scores.append(MetricScore(name: "schema_valid", value: v, unit: "fraction")) }
            if let v = r.fieldAccuracy { report.scores.append(MetricScore(name: "field_accuracy", value: v, unit: "fraction")) }
            if let v = r.fieldAccuracyMacro {
                report.scores.append(MetricScore(name: "field_accuracy_macro", value: v, unit: "fraction"))
            }
            report.failures = r.failures
            report.notes.append("parse_rate_fenced also accepts the first ``` block; schema_valid uses that value")
        }
        return report
    }

    /// Loads and compiles a JSON Schema file.
    public static func loadSchema(_ url: URL) throws -> JSONSchemaValidator {
        let text = try readText(url)
        do {
            return try JSONSchemaValidator(schemaText: text)
        } catch let MetricsError.invalidSchema(path, reason) {
            throw MetricsError.invalidSchema(path: url.path + path, reason: reason)
        } catch let error as MetricsError {
            throw MetricsError.invalidSchema(path: url.path, reason: "not JSON: \(error)")
        }
    }

    enum Role { case prediction, reference }

    static func readText(_ url: URL) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MetricsError.unreadableFile(path: url.path, reason: "no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MetricsError.unreadableFile(path: url.path, reason: "not UTF-8 text")
        }
        return text
    }

    /// Reads one file into examples (see the file comment for the formats).
    public static func readExamples(_ url: URL, asReferences: Bool) throws -> [Example] {
        try read(url, role: asReferences ? .reference : .prediction)
    }

    static func read(_ url: URL, role: Role) throws -> [Example] {
        let text = try readText(url)
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { s -> String in
                var line = String(String.UnicodeScalarView(s))
                if line.unicodeScalars.last == "\r" { line.unicodeScalars.removeLast() }
                return line
            }
        if lines.last == "" { lines.removeLast() }
        let jsonl = ["jsonl", "ndjson", "json"].contains(url.pathExtension.lowercased())
        guard jsonl else { return lines.enumerated().map { Example(line: $0.offset + 1, texts: [$0.element]) } }
        var out: [Example] = []
        for (i, line) in lines.enumerated() {
            if line.unicodeScalars.allSatisfy(PythonText.isWhitespace) { continue }
            let value: MetricsJSON
            do {
                value = try PythonJSON.parse(line)
            } catch {
                throw MetricsError.invalidJSONLine(path: url.path, line: i + 1, reason: "\(error)")
            }
            out.append(try example(value, line: i + 1, path: url.path, role: role))
        }
        return out
    }

    private static func example(_ value: MetricsJSON, line: Int, path: String, role: Role) throws -> Example {
        func text(_ v: MetricsJSON, field: String) throws -> String {
            switch v {
            case let .string(s): return s
            case .number, .bool: return v.description
            case .object, .array, .null:
                throw MetricsError.invalidField(path: path, line: line, field: field,
                                                reason: "expected a string, got \(v)")
            }
        }
        switch value {
        case let .string(s):
            return Example(line: line, texts: [s], value: (try? PythonJSON.parse(s)) ?? value)
        case let .object(o) where role == .prediction:
            guard let p = o["prediction"] else {
                throw MetricsError.missingField(path: path, line: line, expected: ["prediction"])
            }
            // A structured prediction stored as JSON is scored as its JSON text.
            let t: String
            switch p {
            case .object, .array: t = p.description
            default: t = try text(p, field: "prediction")
            }
            return Example(line: line, texts: [t], value: p)
        case let .object(o):
            if let refs = o["references"] {
                guard let a = refs.arrayValue, !a.isEmpty else {
                    throw MetricsError.invalidField(path: path, line: line, field: "references",
                                                    reason: "expected a non-empty array of strings")
                }
                return Example(line: line, texts: try a.map { try text($0, field: "references") }, value: refs)
            }
            guard let r = o["reference"] else {
                throw MetricsError.missingField(path: path, line: line, expected: ["reference", "references"])
            }
            switch r {
            case .object, .array: return Example(line: line, texts: [r.description], value: r)
            case let .string(s): return Example(line: line, texts: [s], value: try? PythonJSON.parse(s))
            default: return Example(line: line, texts: [try text(r, field: "reference")], value: r)
            }
        case let .array(a) where role == .reference && !a.isEmpty:
            return Example(line: line, texts: try a.map { try text($0, field: "references") }, value: value)
        case .number, .bool:
            return Example(line: line, texts: [value.description], value: value)
        default:
            throw MetricsError.invalidField(path: path, line: line, field: role == .prediction ? "prediction" : "reference",
                                            reason: "expected a string or an object, got \(value)")
        }
    }
}
