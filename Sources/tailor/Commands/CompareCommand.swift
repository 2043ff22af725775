// `tailor compare`: full fine-tuning, LoRA and QLoRA side by side on the user's model and data.
import ArgumentParser
import Foundation
import TailorEval
import TailorFormats
import TailorKernels
import TailorModels
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
        var configuration = TrainingConfiguration()
        if let config {
            var train = try TrainCommand.parse(["--model", model.model, "--data", data, "--out", "/dev/null", "--config", config])
            train.method = nil
            configuration = try train.resolvedConfiguration()
        }
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
            methods: chosen, configuration: configuration, modelConfig: checkpoint.config, baseModelName: model.model,
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
            table.add(r.method.rawValue, r.trainableParameters.formatted(), formatBytes(r.peakBytes),
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

/// The comparison as an HTML page with an SVG chart of the loss curves.
enum ComparisonReport {
    static func html(_ results: [MethodResult]) -> String {
        let width = 640.0, height = 300.0, pad = 40.0
        let all = results.flatMap(\.losses).filter(\.isFinite)
        let (low, high) = (all.min() ?? 0, max(all.max() ?? 1, (all.min() ?? 0) + 1e-9))
        let steps = max(results.map(\.losses.count).max() ?? 1, 2)
        let colours = ["full": "#d1495b", "lora": "#00798c", "qlora": "#edae49"]
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(height))'>"
        svg += "<rect width='100%' height='100%' fill='white'/>"
        svg += "<text x='\(pad)' y='20' font-size='13' font-family='sans-serif'>training loss per step</text>"
        for r in results {
            let points = r.losses.enumerated().map { i, loss in
                let x = pad + (width - 2 * pad) * Double(i) / Double(steps - 1)
                let y = height - pad - (height - 2 * pad) * (loss - low) / (high - low)
                return String(format: "%.1f,%.1f", x, y)
            }.joined(separator: " ")
            svg += "<polyline fill='none' stroke='\(colours[r.method.rawValue] ?? "black")' stroke-width='2' points='\(points)'/>"
        }
        for (i, r) in results.enumerated() {
            svg += "<text x='\(Int(width - 120))' y='\(30 + 16 * i)' font-size='12' font-family='sans-serif' fill='\(colours[r.method.rawValue] ?? "black")'>\(r.method.rawValue)</text>"
        }
        svg += String(format: "<text x='4' y='%.0f' font-size='11' font-family='sans-serif'>%.3f</text>", pad, high)
        svg += String(format: "<text x='4' y='%.0f' font-size='11' font-family='sans-serif'>%.3f</text>", height - pad, low)
        svg += "</svg>"
        svg += bars("peak memory (MB)", results.map { (r: $0.method.rawValue, v: Double($0.peakBytes) / 1e6) }, colours)
        svg += bars("seconds per step", results.map { (r: $0.method.rawValue, v: $0.secondsPerStep) }, colours)
        if results.contains(where: { $0.taskMetric != nil }) {
            svg += bars("task metric, % of full", results.map { (r: $0.method.rawValue, v: $0.taskMetricPercentOfFull ?? 0) }, colours)
        }
        let rows = results.map { r in
            "<tr><td>\(r.method.rawValue)</td><td>\(r.trainableParameters)</td><td>\(r.peakBytes / 1_000_000) MB</td>"
                + String(format: "<td>%.2f</td><td>%.4f</td><td>%@</td></tr>", r.secondsPerStep, r.evalLoss,
                         r.perplexityRatioToFull.map { String(format: "%.3f×", $0) } ?? "–")
        }.joined()
        return """
        <!doctype html><html><head><meta charset='utf-8'><title>Tailor: full vs LoRA vs QLoRA</title>
        <style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:right}</style></head><body>
        <h1>Full fine-tuning vs LoRA vs QLoRA</h1>
        <table><tr><th>method</th><th>trainable</th><th>peak memory</th><th>s/step</th><th>eval loss</th><th>perplexity vs full</th></tr>\(rows)</table>
        \(svg)
        </body></html>
        """
    }

    /// A small horizontal bar chart.
    static func bars(_ title: String, _ values: [(r: String, v: Double)], _ colours: [String: String]) -> String {
        let top = max(values.map(\.v).max() ?? 1, 1e-9)
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='420' height='\(30 + 24 * values.count)'>"
        svg += "<text x='4' y='16' font-size='13' font-family='sans-serif'>\(title)</text>"
        for (i, entry) in values.enumerated() {
            let y = 26 + 24 * i, width = 260 * entry.v / top
            svg += "<text x='4' y='\(y + 14)' font-size='12' font-family='sans-serif'>\(entry.r)</text>"
            svg += String(format: "<rect x='60' y='%d' width='%.1f' height='16' fill='%@'/>", y, width, colours[entry.r] ?? "gray")
            svg += String(format: "<text x='%.1f' y='%d' font-size='11' font-family='sans-serif'>%.2f</text>", 66 + width, y + 13, entry.v)
        }
        return svg + "</svg>"
    }
}
