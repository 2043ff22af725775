// Runs one evaluation: reads the data, asks the model (generation, loss or choice scoring) and scores the answers.
import Foundation
import TailorKernels
import TailorMetrics
import TailorModels
import TailorTensor

/// Settings of one evaluation.
public struct EvalConfiguration: Sendable, Equatable {
    /// What to run and how to score it.
    public var task: EvalTask
    /// The JSONL data file.
    public var data: URL
    /// A JSON Schema for the json task.
    public var schema: URL?
    /// Most tokens generated per example.
    public var maxNewTokens: Int
    /// Prompts generated together (left-padded); 1 = one at a time.
    public var batchSize: Int
    /// Forgetting threshold for multiple-choice comparisons, percentage points.
    public var forgettingThreshold: Double
    /// Wrong examples kept in the report.
    public var shownExamples: Int
    /// Evaluate only the first N examples (nil = all).
    public var limit: Int?

    public init(task: EvalTask, data: URL, schema: URL? = nil, maxNewTokens: Int = 256, batchSize: Int = 8,
                forgettingThreshold: Double = 5, shownExamples: Int = 20, limit: Int? = nil) {
        self.task = task
        self.data = data
        self.schema = schema
        self.maxNewTokens = maxNewTokens
        self.batchSize = batchSize
        self.forgettingThreshold = forgettingThreshold
        self.shownExamples = shownExamples
        self.limit = limit
    }
}

/// The result of evaluating one model (base or tuned).
public struct EvalRun: Sendable, Equatable, Codable {
    /// "tuned", "base" or "model".
    public var label: String
    /// Examples evaluated.
    public var count: Int
    /// The metrics, in display order.
    public var scores: [MetricScore]
    /// Wrong answers (generating tasks and multiple choice) or the highest-loss texts (loss), at most
    /// `shownExamples`.
    public var examples: [ExampleOutcome]
    /// acc and acc_norm, for multiple choice.
    public var multipleChoice: MultipleChoiceSummary?
    /// How the numbers were computed (prompt format, decoding, normalisation).
    public var notes: [String]
    /// Wall time of the run.
    public var seconds: Double

    public init(label: String, count: Int, scores: [MetricScore], examples: [ExampleOutcome],
                multipleChoice: MultipleChoiceSummary?, notes: [String], seconds: Double) {
        self.label = label
        self.count = count
        self.scores = scores
        self.examples = examples
        self.multipleChoice = multipleChoice
        self.notes = notes
        self.seconds = seconds
    }

    /// The value of a named score, or nil.
    public func value(_ name: String) -> Double? { scores.first { $0.name == name }?.value }
}

/// Evaluates a chat model on a data file.
public enum EvalRunner {
    /// Runs `configuration.task` with `model` and labels the result.
    /// - Throws: ``EvalError`` for bad data, ``MetricsError`` from scoring, ``ModelError`` from the chat template.
    public static func run(_ configuration: EvalConfiguration, model: ChatModel, label: String,
                           backend: any Backend = CPUBackend(),
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> EvalRun {
        let started = Date()
        var run: EvalRun
        switch configuration.task {
        case .multipleChoice:
            let questions = try limited(EvalDataset.readMultipleChoice(configuration.data), configuration.limit)
            let tokenize = { (text: String) in model.tokenizer.encode(text, addSpecialTokens: false).map(Int32.init) }
            let outcomes = try MultipleChoiceEvaluator().evaluate(questions, model: model.model, backend: backend,
                                                                  tokenize: tokenize)
            progress(questions.count, questions.count)
            let summary = MultipleChoiceSummary(outcomes: outcomes)
            let wrong = outcomes.filter { !$0.isCorrect }.prefix(configuration.shownExamples).map { o in
                ExampleOutcome(line: o.line, prompt: o.question, references: [o.choices[o.answer]],
                               prediction: o.choices[o.predicted], correct: false,
                               score: o.logLikelihoods[o.predicted] - o.logLikelihoods[o.answer],
                               note: "log-likelihood margin of the wrong choice")
            }
            run = EvalRun(label: label, count: outcomes.count,
                          scores: [MetricScore(name: "acc", value: summary.accuracy, unit: "fraction"),
                                   MetricScore(name: "acc_norm", value: summary.accuracyNormalized, unit: "fraction")],
                          examples: Array(wrong), multipleChoice: summary,
                          notes: ["choices scored as \" {choice}\" after \"Question: {question}\\nAnswer:\"; acc_norm divides by the choice's UTF-8 bytes"],
                          seconds: 0)
        case .loss:
            let texts = try limited(EvalDataset.readTexts(configuration.data), configuration.limit)
            var parts: [(sumNLL: Double, tokenCount: Int)] = []
            var outcomes: [ExampleOutcome] = []
            for (i, row) in texts.enumerated() {
                let ids = model.rawIDs(for: row.text)
                guard ids.count >= 2 else {
                    throw EvalError.invalidRequest("\(configuration.data.path):\(row.line): the text has \(ids.count) token(s); the loss needs at least 2")
                }
                try model.model.configuration.checkSequence(ids, what: "\(configuration.data.path):\(row.line): the text")
                let logits = model.model.forward(tokens: ids, batch: 1, backend: backend)
                let part = CausalLMLoss.sum(logits: logits, targets: CausalLMLoss.shiftedTargets(labels: ids, batch: 1),
                                            backend: backend)
                parts.append((part.sum, part.count))
                outcomes.append(ExampleOutcome(line: row.line, prompt: String(row.text.prefix(300)), references: [],
                                               prediction: "", correct: true, score: part.sum / Double(part.count),
                                               note: "mean NLL"))
                progress(i + 1, texts.count)
            }
            let r = try LanguageModelingMetrics.compute(parts)
            run = EvalRun(label: label, count: texts.count,
                          scores: [MetricScore(name: "mean_nll", value: r.meanNLL, unit: "nats"),
                                   MetricScore(name: "perplexity", value: r.perplexity, unit: "ratio"),
                                   MetricScore(name: "tokens", value: Double(r.tokenCount), unit: "count")],
                          examples: Array(outcomes.sorted { ($0.score ?? 0) > ($1.score ?? 0) }.prefix(configuration.shownExamples)),
                          multipleChoice: nil, notes: ["token-weighted mean NLL; texts tokenized with the model's special tokens"],
                          seconds: 0)
        case .classification, .qa, .generation, .json:
            let examples = try limited(EvalDataset.readExamples(configuration.data), configuration.limit)
            let schema = try configuration.schema.map { try MetricFileScorer.loadSchema($0) }
            let prompts = try examples.map { try model.promptIDs(for: $0.messages) }
            for (prompt, example) in zip(prompts, examples) {
                try model.model.configuration.checkSequence(prompt, newTokens: configuration.maxNewTokens, what: "line \(example.line): the prompt")
            }
            let options = GenerationOptions(maxNewTokens: configuration.maxNewTokens, temperature: 0,
                                            stopTokens: model.stopTokens)
            var finished = 0
            let outputs = BatchedGeneration.generate(prompts: prompts, model: model.model, options: options,
                                                     batchSize: configuration.batchSize, backend: backend) { _, _ in
                finished += 1
                progress(finished, prompts.count)
            }
            let predictions = outputs.map { ids in
                model.tokenizer.decode(ids.filter { !options.stopTokens.contains($0) }.map(Int.init), skipSpecialTokens: true)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let scored = try TaskScorer.score(task: configuration.task, examples: examples, predictions: predictions,
                                              schema: schema)
            // The loss of the reference replies next to the scores of the generated ones.
            let loss = try AnswerLoss.compute(examples, model: model, backend: backend)
            run = EvalRun(label: label, count: examples.count,
                          scores: scored.scores + [MetricScore(name: "answer_loss", value: loss.meanNLL, unit: "nats")],
                          examples: Array(scored.outcomes.filter { !$0.correct }.prefix(configuration.shownExamples)),
                          multipleChoice: nil,
                          notes: scored.notes + ["greedy decoding, at most \(configuration.maxNewTokens) new tokens, chat template applied",
                                                 "answer_loss: mean NLL of the reference reply and its end-of-turn token after the prompt (\(loss.tokenCount) tokens), the validation loss `tailor train --eval-data` reports on the same rows"],
                          seconds: 0)
        }
        run.seconds = Date().timeIntervalSince(started)
        return run
    }

    static func limited<T>(_ items: [T], _ limit: Int?) -> [T] {
        guard let limit, limit >= 0 else { return items }
        return Array(items.prefix(limit))
    }
}
