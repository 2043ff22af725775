// `tailor compare`: full fine-tuning, LoRA and QLoRA side by side on the user's model and data.
import ArgumentParser
import Foundation
import TailorKernels
import TailorModels
import TailorTraining

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train full, LoRA and QLoRA for the same steps on your data; print peak memory, seconds/step and quality relative to full.")

    @OptionGroup var model: ModelOption
    @Option(help: "Training data (.tdata from `tailor prepare`, or JSONL with \"text\" or \"input_ids\").") var data: String
    @Option(help: "Evaluation data; default: the last 10% of --data.") var evalData: String?
    @Option(help: "Optimizer steps per method.") var steps = 20
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
        configuration.maxSteps = steps
        configuration.batchSize = batchSize
        configuration.maxLength = maxLength
        let checkpoint = try model.load(eager: false)
        let tokenizer = try? checkpoint.tokenizer()
        let tokenize: ((String) -> [Int32])? = tokenizer.map { t in { t.encode($0, addSpecialTokens: true).map(Int32.init) } }
        var rows = try readTrainingRows(data, tokenize: tokenize)
        let evaluation: [TrainingExample]
        if let evalData {
            evaluation = try readTrainingRows(evalData, tokenize: tokenize)
        } else {
            let held = max(1, rows.count / 10)
            evaluation = Array(rows.suffix(held))
            rows.removeLast(held)
        }
        let padID = Int32(checkpoint.config.padTokenID ?? checkpoint.config.eosTokenIDs.first ?? 0)
        print("comparing \(chosen.map(\.rawValue).joined(separator: ", ")): \(steps) steps of \(batchSize) rows, \(rows.count) training rows, \(evaluation.count) evaluation rows")
        let results = try MethodComparison.run(
            methods: chosen, configuration: configuration, modelConfig: checkpoint.config, baseModelName: model.model,
            loadModel: { try model.load().model }, train: rows, evaluation: evaluation, padID: padID, backend: CPUBackend()
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
        var table = TextTable("method", "trainable", "peak memory", "s/step", "tokens/s", "eval loss", "ppl vs full")
        for r in results {
            table.add(r.method.rawValue, r.trainableParameters.formatted(), formatBytes(r.peakBytes),
                      String(format: "%.2f", r.secondsPerStep), String(format: "%.0f", r.tokensPerSecond),
                      String(format: "%.4f", r.evalLoss), r.perplexityRatioToFull.map { String(format: "%.3f×", $0) } ?? "–")
        }
        print(table.render())
        if let out { print("report: \(out)/report.html") }
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
}
