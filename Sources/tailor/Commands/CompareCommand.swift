// `tailor compare`: full fine-tuning, LoRA and QLoRA side by side on the user's model and data.
import ArgumentParser
import Foundation
import TailorEval
import TailorFormats
import TailorKernels
import TailorModels
import TailorReport
import TailorTraining

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train full, LoRA and QLoRA for the same steps on your data; print peak memory, seconds/step and quality relative to full.")

    @OptionGroup var model: ModelOption
    @Option(help: "Training data (.tdata from `tailor prepare`, or JSONL with \"text\" or \"input_ids\").") var data: String
    @Option(help: "Evaluation rows for the loss (same format as --data); default: the last 10% of --data.") var evalData: String?
    @Option(name: .customLong("eval"), help: "Task data for `tailor eval` (JSONL with prompt and reference) scored after each method.")
    var taskData: String?
    @Option(help: "Task for --eval: classification | qa | generation | json | multiple-choice.") var task = "qa"
    @Option(help: "Optimizer steps per method (0: use --epochs).") var maxSteps = 20
    @Option(help: "Epochs per method when --max-steps is 0.") var epochs: Double = 1
    @Option(help: "Rows per step.") var batchSize = 4
    @Option(help: "Tokens per row at most.") var maxLength = 256
    @Option(help: "Methods to run, comma-separated.") var methods = "full,lora,qlora"
    @Option(help: "A YAML recipe for the shared hyperparameters (learning rates default to each method's usual one).") var config: String?
    @Option(help: "Write report.json and report.html (loss curves) here.") var out: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let chosen = try methods.split(separator: ",").map { name -> TrainingMethod in
            guard let m = TrainingMethod(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--methods: '\(name)' is not full, lora or qlora")
            }
            return m
        }
        var configuration = try TrainCommand.resolvedConfiguration(recipe: config, flags: [])
        configuration.maxSteps = maxSteps
        configuration.epochs = epochs
        configuration.batchSize = batchSize
        configuration.maxLength = maxLength
        let checkpoint = try model.load(eager: false)
        let tokenizer = try? checkpoint.tokenizer()
        var rows = try readTrainingRows(data, tokenizer: tokenizer, maxLength: maxLength)
        let evaluation: [TrainingExample]
        if let evalData {
            evaluation = try readTrainingRows(evalData, tokenizer: tokenizer, maxLength: maxLength)
        } else {
            let held = max(1, rows.count / 10)
            evaluation = Array(rows.suffix(held))
            rows.removeLast(held)
        }
        let padID = Int32(checkpoint.config.padTokenID ?? checkpoint.config.eosTokenIDs.first ?? 0)
        print("comparing \(chosen.map(\.rawValue).joined(separator: ", ")): \(maxSteps > 0 ? "\(maxSteps) steps" : "\(epochs) epochs") of \(batchSize) rows, \(rows.count) training rows, \(evaluation.count) evaluation rows")
        let evaluateTask = try taskEvaluation()
        let results = try MethodComparison.run(
            methods: chosen, configuration: configuration, modelConfig: checkpoint.config, baseModelName: checkpoint.baseModelName().name,
            loadModel: { try model.load().model }, train: rows, evaluation: evaluation, padID: padID, backend: CPUBackend(),
            evaluateTask: evaluateTask
        ) { method, event in
            if case .step(let r, let total) = event, r.step == total || r.step % 5 == 0 {
                print(String(format: "  %@ step %d/%d loss %.4f", method.rawValue, r.step, total, r.loss))
            }
        }
        if let out {
            let folder = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try JSONEncoder.pretty.encode(results).write(to: folder.appendingPathComponent("report.json"), options: .atomic)
            try Data(ComparisonReport.html(results).utf8).write(to: folder.appendingPathComponent("report.html"), options: .atomic)
        }
        if json { return try printJSON(results) }
        var table = TextTable("method", "trainable", "peak memory", "s/step", "tokens/s", "wall", "eval loss", "ppl vs full",
                              "task metric", "% of full")
        for r in results {
            table.add(r.method.rawValue, r.trainableParameters.formatted(), ReportFormat.bytes(r.peakBytes),
                      String(format: "%.2f", r.secondsPerStep), String(format: "%.0f", r.tokensPerSecond),
                      String(format: "%.0f s", r.wallSeconds), String(format: "%.4f", r.evalLoss),
                      r.perplexityRatioToFull.map { String(format: "%.3f×", $0) } ?? "–",
                      r.taskMetric.map { String(format: "%@ %.4f", $0.name, $0.value) } ?? "–",
                      r.taskMetricPercentOfFull.map { String(format: "%.1f%%", $0) } ?? "–")
        }
        print(table.render())
        if let out { print("report: \(out)/report.html") }
    }
}

extension CompareCommand {
    /// With --eval: a closure that scores a trained decoder on the task with `tailor eval`'s runner and returns the
    /// task's headline metric.
    func taskEvaluation() throws -> ((LlamaModel) throws -> TaskMetric)? {
        guard let taskData else { return nil }
        let evalTask = try EvalTask.parse(task)
        let base = try ChatModel(loaded: model.load())
        let configuration = EvalConfiguration(task: evalTask, data: URL(fileURLWithPath: taskData))
        return { decoder in
            var chat = base
            chat.model = decoder
            let run = try EvalRunner.run(configuration, model: chat, label: "compare")
            guard let headline = run.scores.first else { throw ValidationError("--eval: the task produced no score") }
            return TaskMetric(name: headline.name, value: headline.value)
        }
    }
}
