// Scores generated replies against references with TailorMetrics, and marks which examples went wrong.
import Foundation
import TailorMetrics

/// One example as shown in reports: prompt, reference, what the model said, and whether it counts as right.
public struct ExampleOutcome: Sendable, Equatable, Codable {
    /// 1-based line in the data file.
    public var line: Int
    /// The last user message (or the text, for the loss task).
    public var prompt: String
    /// Accepted answers.
    public var references: [String]
    /// What the model produced (the chosen choice, for multiple choice).
    public var prediction: String
    /// Whether it counts as right for the task.
    public var correct: Bool
    /// The per-example number the verdict rests on (exact match, ROUGE-L F, field accuracy…), when there is one.
    public var score: Double?
    /// Why it is wrong, when a reason is known (e.g. a JSON parse failure).
    public var note: String?

    public init(line: Int, prompt: String, references: [String], prediction: String, correct: Bool,
                score: Double? = nil, note: String? = nil) {
        self.line = line
        self.prompt = prompt
        self.references = references
        self.prediction = prediction
        self.correct = correct
        self.score = score
        self.note = note
    }
}

/// Scores and per-example outcomes of one run.
public struct TaskScores: Sendable, Equatable, Codable {
    /// Corpus-level metrics.
    public var scores: [MetricScore]
    /// Every example, in order.
    public var outcomes: [ExampleOutcome]
    /// How the metrics were computed.
    public var notes: [String]
}

/// Metrics per task.
public enum TaskScorer {
    /// ROUGE-L F below this counts a generation example as wrong in the report (the metrics themselves are means).
    public static let generationWrongBelow = 0.5

    /// Scores `predictions` (one per example, in order).
    /// - Throws: ``MetricsError`` from the metric (empty input, length mismatch), ``EvalError/invalidRequest(_:)``
    ///   for the non-generating tasks.
    public static func score(task: EvalTask, examples: [EvalExample], predictions: [String],
                             schema: JSONSchemaValidator? = nil) throws -> TaskScores {
        guard examples.count == predictions.count else {
            throw EvalError.invalidRequest("\(predictions.count) predictions for \(examples.count) examples")
        }
        let refs = examples.map(\.references)
        func outcome(_ i: Int, correct: Bool, score: Double? = nil, note: String? = nil) -> ExampleOutcome {
            ExampleOutcome(line: examples[i].line, prompt: examples[i].promptText, references: refs[i],
                           prediction: predictions[i], correct: correct, score: score, note: note)
        }
        switch task {
        case .classification:
            // Labels compare after trimming whitespace and a final period ("positive." is "positive").
            let cleaned = predictions.map(cleanLabel)
            let r = try ClassificationMetrics.compute(predictions: cleaned, references: refs.map { cleanLabel($0[0]) })
            let scores = [
                MetricScore(name: "accuracy", value: r.accuracy, unit: "fraction"),
                MetricScore(name: "macro_f1", value: r.macro.f1, unit: "fraction"),
                MetricScore(name: "weighted_f1", value: r.weighted.f1, unit: "fraction"),
            ] + r.perClass.map { MetricScore(name: "f1[\($0.label)]", value: $0.f1, unit: "fraction") }
            return TaskScores(scores: scores, outcomes: examples.indices.map {
                outcome($0, correct: cleaned[$0] == cleanLabel(refs[$0][0]))
            }, notes: ["labels compared after trimming whitespace and a final period"])
        case .qa:
            let r = try QAMetrics.corpus(predictions: predictions, references: refs)
            let scores = [MetricScore(name: "exact_match", value: r.exactMatch, unit: "percent"),
                          MetricScore(name: "f1", value: r.f1, unit: "percent")]
            return TaskScores(scores: scores, outcomes: examples.indices.map { i in
                let em = QAMetrics.exactMatch(prediction: predictions[i], references: refs[i])
                return outcome(i, correct: em == 1, score: QAMetrics.f1(prediction: predictions[i], references: refs[i]))
            }, notes: ["SQuAD v1.1 normalisation; max over references"])
        case .generation:
            let rouge = try Rouge.corpus(predictions: predictions, references: refs, useStemmer: false)
            let bleu = try BLEU.corpus(hypotheses: predictions, references: refs)
            let chrf = try CHRF.corpus(hypotheses: predictions, references: refs)
            let scores = [MetricScore(name: "rouge1", value: rouge.rouge1.fmeasure, unit: "fraction"),
                          MetricScore(name: "rouge2", value: rouge.rouge2.fmeasure, unit: "fraction"),
                          MetricScore(name: "rougeL", value: rouge.rougeL.fmeasure, unit: "fraction"),
                          MetricScore(name: "bleu", value: bleu.score, unit: "percent"),
                          MetricScore(name: "chrf", value: chrf, unit: "percent")]
            return TaskScores(scores: scores, outcomes: examples.indices.map { i in
                let f = Rouge.scoreMulti(prediction: predictions[i], references: refs[i]).rougeL.fmeasure
                return outcome(i, correct: f >= generationWrongBelow, score: f)
            }, notes: [String(format: "examples with ROUGE-L F < %.2f are listed as wrong", generationWrongBelow)])
        case .json:
            let referenceValues = refs.map { try? PythonJSON.parse($0[0]) }
            let usable = referenceValues.allSatisfy { v in
                if case .object = v { return true }
                if case .array = v { return true }
                return false
            }
            let r = try StructuredOutputMetrics.evaluate(predictions: predictions, schema: schema,
                                                         references: usable ? referenceValues.compactMap { $0 } : nil)
            var scores = [MetricScore(name: "parse_rate", value: r.parseRate, unit: "fraction"),
                          MetricScore(name: "parse_rate_fenced", value: r.extractedParseRate, unit: "fraction")]
            if let v = r.schemaValidRate { scores.append(MetricScore(name: "schema_valid", value: v, unit: "fraction")) }
            if let v = r.fieldAccuracy { scores.append(MetricScore(name: "field_accuracy", value: v, unit: "fraction")) }
            let outcomes = examples.indices.map { i -> ExampleOutcome in
                guard let value = StructuredOutputMetrics.extractJSON(predictions[i]) else {
                    return outcome(i, correct: false, score: 0, note: "not JSON")
                }
                if let schema, !schema.isValid(value) {
                    return outcome(i, correct: false, note: "schema: " + schema.validate(value).prefix(2).map(\.description).joined(separator: "; "))
                }
                guard usable, let reference = referenceValues[i] else { return outcome(i, correct: true) }
                let m = StructuredOutputMetrics.fieldMatches(prediction: value, reference: reference)
                let accuracy = m.total > 0 ? Double(m.matched) / Double(m.total) : 1
                return outcome(i, correct: m.matched == m.total, score: accuracy,
                               note: m.matched == m.total ? nil : "\(m.matched)/\(m.total) fields match")
            }
            return TaskScores(scores: scores, outcomes: outcomes,
                              notes: usable ? [] : ["references are not all JSON objects or arrays: field accuracy not computed"])
        case .loss, .multipleChoice:
            throw EvalError.invalidRequest("task \(task.rawValue) does not score generated text")
        }
    }

    static func cleanLabel(_ text: String) -> String {
        var s = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if s.hasSuffix(".") { s.removeLast() }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
