// The evaluation tasks `tailor eval` runs and the metrics each reports.

/// What kind of answer the data asks for, and therefore how outputs are scored.
public enum EvalTask: String, CaseIterable, Codable, Sendable {
    /// One label per example: accuracy and F1 (scikit-learn conventions).
    case classification
    /// Short answers: SQuAD exact match and token F1.
    case qa
    /// Free text: ROUGE, BLEU and chrF.
    case generation
    /// Structured output: JSON parse rate, schema validity, field accuracy.
    case json
    /// Language-modelling loss and perplexity of "text" rows (no generation).
    case loss
    /// Choices ranked by log-likelihood (accuracy and length-normalised accuracy; the forgetting check).
    case multipleChoice = "multiple-choice"

    /// Parses a `--task` value.
    /// - Throws: ``EvalError/unknownTask(_:)``.
    public static func parse(_ name: String) throws -> EvalTask {
        guard let task = EvalTask(rawValue: name) else { throw EvalError.unknownTask(name) }
        return task
    }

    /// Whether the task generates text with the model (the others only score tokens).
    public var generates: Bool { ![.loss, .multipleChoice].contains(self) }
}
