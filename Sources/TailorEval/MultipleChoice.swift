// Multiple-choice evaluation by log-likelihood (lm-evaluation-harness's "multiple_choice" output type): each choice
// is scored as the continuation " {choice}" of the prompt "Question: {question}\nAnswer:"; the prediction is the
// choice with the largest sum of token log-probabilities (acc), or the largest sum divided by the choice's UTF-8 byte
// length (acc_norm; lm-evaluation-harness divides by len(choice), the same for ASCII text).
import Foundation
import TailorModels
import TailorTensor

/// How a question becomes a context and each choice a continuation.
public struct MultipleChoicePromptFormat: Sendable, Equatable {
    /// `{question}` is replaced by the question text.
    public var contextTemplate: String
    /// Put between the context and each choice (lm-evaluation-harness's `target_delimiter`).
    public var delimiter: String

    public init(contextTemplate: String = "Question: {question}\nAnswer:", delimiter: String = " ") {
        self.contextTemplate = contextTemplate
        self.delimiter = delimiter
    }

    /// The context text of a question.
    public func context(for question: MultipleChoiceQuestion) -> String {
        contextTemplate.replacingOccurrences(of: "{question}", with: question.question)
    }

    /// Context and continuation ids split as lm-evaluation-harness's `_encode_pair`: trailing spaces of the context
    /// move to the continuation, the pair is encoded whole, and the continuation is what follows the context's own
    /// encoding (so a token that merges across the boundary is not scored twice).
    public func encodePair(context: String, continuation: String,
                           tokenize: (String) -> [Int32]) -> ContinuationRequest {
        var context = context, continuation = continuation
        while context.last == " " {
            context.removeLast()
            continuation = " " + continuation
        }
        let whole = tokenize(context + continuation)
        let contextIDs = tokenize(context)
        var continuationIDs = whole.count > contextIDs.count ? Array(whole[contextIDs.count...]) : []
        if continuationIDs.isEmpty || Array(whole.prefix(contextIDs.count)) != contextIDs {
            continuationIDs = tokenize(continuation)   // the boundary merged: score the continuation on its own
        }
        return ContinuationRequest(context: contextIDs, continuation: continuationIDs)
    }
}

/// One question scored.
public struct MultipleChoiceOutcome: Sendable, Equatable, Codable {
    /// 1-based line of the question in its file.
    public var line: Int
    public var question: String
    public var choices: [String]
    public var answer: Int
    public var subject: String?
    /// Σ log p per choice.
    public var logLikelihoods: [Double]
    /// UTF-8 bytes of each choice (the acc_norm divisor).
    public var byteLengths: [Int]
    /// argmax of the log-likelihoods (first on ties, as numpy).
    public var predicted: Int
    /// argmax of log-likelihood / byte length.
    public var predictedNormalized: Int

    /// Right by raw log-likelihood (acc).
    public var isCorrect: Bool { predicted == answer }
    /// Right by length-normalised log-likelihood (acc_norm).
    public var isCorrectNormalized: Bool { predictedNormalized == answer }
}

/// Accuracy over a question set.
public struct MultipleChoiceSummary: Sendable, Equatable, Codable {
    /// Questions scored.
    public var count: Int
    /// Fraction right by raw log-likelihood.
    public var accuracy: Double
    /// Fraction right by length-normalised log-likelihood.
    public var accuracyNormalized: Double

    public init(outcomes: [MultipleChoiceOutcome]) {
        count = outcomes.count
        let n = Double(max(outcomes.count, 1))
        accuracy = Double(outcomes.filter(\.isCorrect).count) / n
        accuracyNormalized = Double(outcomes.filter(\.isCorrectNormalized).count) / n
    }
}

/// Scores questions with a model.
public struct MultipleChoiceEvaluator: Sendable {
    /// How questions and choices become text.
    public var format: MultipleChoicePromptFormat
    /// Padded tokens per forward pass (bounds the logits memory: tokens × vocab × 4 bytes).
    public var maxBatchTokens: Int

    public init(format: MultipleChoicePromptFormat = MultipleChoicePromptFormat(), maxBatchTokens: Int = 2048) {
        self.format = format
        self.maxBatchTokens = maxBatchTokens
    }

    /// The scoring requests of one question, one per choice.
    public func requests(for question: MultipleChoiceQuestion, tokenize: (String) -> [Int32]) -> [ContinuationRequest] {
        let context = format.context(for: question)
        return question.choices.map { format.encodePair(context: context, continuation: format.delimiter + $0, tokenize: tokenize) }
    }

    /// Scores every choice of every question; `tokenize` encodes text without special tokens added.
    public func evaluate(_ questions: [MultipleChoiceQuestion], model: LlamaModel, backend: any Backend,
                         tokenize: (String) -> [Int32]) throws -> [MultipleChoiceOutcome] {
        let perQuestion = questions.map { requests(for: $0, tokenize: tokenize) }
        let scores = try LogLikelihood.score(perQuestion.flatMap { $0 }, model: model, backend: backend,
                                             maxBatchTokens: maxBatchTokens)
        var offset = 0
        return questions.map { q in
            let lls = scores[offset..<(offset + q.choices.count)].map(\.logLikelihood)
            offset += q.choices.count
            return Self.outcome(question: q, logLikelihoods: lls)
        }
    }

    /// Picks the predictions from per-choice log-likelihoods.
    public static func outcome(question q: MultipleChoiceQuestion, logLikelihoods: [Double]) -> MultipleChoiceOutcome {
        let bytes = q.choices.map { $0.utf8.count }
        let normalized = zip(logLikelihoods, bytes).map { $0 / Double(max($1, 1)) }
        return MultipleChoiceOutcome(line: q.line, question: q.question, choices: q.choices, answer: q.answer,
                                     subject: q.subject, logLikelihoods: logLikelihoods, byteLengths: bytes,
                                     predicted: firstArgmax(logLikelihoods), predictedNormalized: firstArgmax(normalized))
    }

    static func firstArgmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

/// Base vs tuned accuracy on a general-knowledge set: a drop larger than the threshold suggests the fine-tune made
/// the model forget.
public struct ForgettingCheck: Sendable, Equatable, Codable {
    /// Accuracy of the base model, percent.
    public var baseAccuracy: Double
    /// Accuracy with the adapter / fine-tuned weights, percent.
    public var tunedAccuracy: Double
    /// acc_norm of the base model, percent.
    public var baseAccuracyNormalized: Double
    /// acc_norm of the tuned model, percent.
    public var tunedAccuracyNormalized: Double
    /// Allowed drop in percentage points.
    public var threshold: Double
    /// base − tuned, percentage points (positive = worse after tuning).
    public var drop: Double
    /// The same for acc_norm.
    public var dropNormalized: Double
    /// True when either accuracy fell by more than the threshold.
    public var flagged: Bool

    public init(base: MultipleChoiceSummary, tuned: MultipleChoiceSummary, threshold: Double = 5) {
        baseAccuracy = base.accuracy * 100
        tunedAccuracy = tuned.accuracy * 100
        baseAccuracyNormalized = base.accuracyNormalized * 100
        tunedAccuracyNormalized = tuned.accuracyNormalized * 100
        self.threshold = threshold
        drop = baseAccuracy - tunedAccuracy
        dropNormalized = baseAccuracyNormalized - tunedAccuracyNormalized
        flagged = drop > threshold || dropNormalized > threshold
    }

    /// One line for reports: "FORGETTING: …" or "no forgetting: …" with both changes.
    public var verdict: String {
        String(format: "%@: acc %+.1f pt, acc_norm %+.1f pt after tuning (threshold: a drop of %.1f pt)",
               flagged ? "FORGETTING" : "no forgetting", -drop, -dropNormalized, threshold)
    }
}
