// `tailor eval run` (the default of `tailor eval`): generate or score with a model on a data file, compare with the
// base model, and write a JSON report and an HTML page.
import ArgumentParser
import Foundation
import TailorEval
import TailorModels

struct EvalModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Evaluate a model (optionally with an adapter, and against its base) on a JSONL data file.",
        discussion: """
        Tasks: \(EvalTask.allCases.map(\.rawValue).joined(separator: ", ")).
        Data (JSONL): "prompt"/"input" or "messages", with "reference"/"output"/"label"/"answer" (or "references");
        loss: "text"; multiple-choice: "question", "choices", "answer" (0-based index or letter).
        Generation uses the chat template and greedy decoding; the generating tasks also report answer_loss, the
        mean NLL of the reference reply (the validation loss `tailor train --eval-data` reports on chat rows).
        Multiple-choice ranks choices by log-likelihood
        (acc and acc_norm) and, with --compare-base, flags a drop beyond --threshold points (forgetting).
        A starter set: data/eval/multiple-choice/basics.jsonl.
        """)

    @OptionGroup var chat: ChatModelOptions
    @Option(help: "The JSONL data file.") var data: String
    @Option(help: "classification | qa | generation | json | loss | multiple-choice | preference") var task: String
    @Option(help: "JSON Schema file for --task json.") var schema: String?
    @Option(help: "Most new tokens per example.") var maxNewTokens = 256
    @Option(help: "Prompts generated together (left-padded).") var batchSize = 8
    @Flag(help: "Evaluate the base model too (without --adapter, or --base-model) and print deltas.") var compareBase = false
    @Option(help: "The base model for --compare-base when the tuned model is a full fine-tune.") var baseModel: String?
    @Option(help: "Forgetting threshold for multiple-choice, accuracy points.") var threshold: Double = 5
    @Option(help: "Evaluate only the first N examples.") var limit: Int?
    @Option(help: "Write report.json and report.html into this folder.") var out: String?
    @Flag(help: "Print the JSON report instead of the table.") var json = false
    @Flag(help: "Exit with status 3 when the forgetting check flags a drop (for CI).") var failOnForgetting = false
    @Option(help: "preference: β of DPO's implicit rewards.") var beta: Double = 0.1

    func validate() throws {
        guard maxNewTokens > 0, batchSize > 0 else { throw ValidationError("--max-new-tokens and --batch-size must be ≥ 1") }
        guard threshold >= 0 else { throw ValidationError("--threshold must be ≥ 0") }
        if compareBase && chat.adapter == nil && baseModel == nil {
            throw ValidationError("--compare-base needs --adapter (the base is the model without it) or --base-model PATH")
        }
        if baseModel != nil && !compareBase { throw ValidationError("--base-model is used with --compare-base") }
    }

    func run() throws {
        if task == "preference" { return try runPreference() }
        let chosen = try EvalTask.parse(task)
        guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("--data \(data): no such file") }
        if chosen == .json, schema == nil { FileHandle.standardError.write(Data("note: no --schema: schema validity not measured\n".utf8)) }
        let config = EvalConfiguration(task: chosen, data: URL(fileURLWithPath: data),
                                       schema: schema.map { URL(fileURLWithPath: $0) }, maxNewTokens: maxNewTokens,
                                       batchSize: batchSize, forgettingThreshold: threshold, limit: limit)
        let tuned = try evaluate(config, model: chat.load(), label: compareBase ? "tuned" : "model")
        var base: EvalRun?
        if compareBase {
            var loaded: LoadedModel
            if let baseModel {
                guard FileManager.default.fileExists(atPath: baseModel) else { throw ValidationError("--base-model \(baseModel): no such file or folder") }
                loaded = try LoadedModel.load(from: URL(fileURLWithPath: baseModel))
            } else {
                loaded = try chat.model.load()
            }
            // The base runs in the same precision as the tuned model, so the deltas measure the adapter only.
            loaded.storeForInference(try chat.precision.precision())
            base = try evaluate(config, model: ChatModel(loaded: loaded,
                                                         templateChoice: chat.template), label: "base")
        }
        let report = EvalReport(task: chosen, data: data, model: chat.model.model, adapter: chat.adapter, tuned: tuned,
                                base: base, forgettingThreshold: threshold)
        if json {
            print(String(decoding: try report.jsonData(), as: UTF8.self))
        } else {
            print(report.renderTable())
        }
        if let out {
            let files = try report.write(to: URL(fileURLWithPath: out))
            FileHandle.standardError.write(Data("wrote \(files.json.path) and \(files.html.path)\n".utf8))
        }
        if failOnForgetting, report.forgetting?.flagged == true { throw ExitCode(3) }
    }

    /// One run with a progress line on standard error.
    func evaluate(_ config: EvalConfiguration, model: ChatModel, label: String) throws -> EvalRun {
        let interactive = isatty(STDERR_FILENO) != 0
        let run = try EvalRunner.run(config, model: model, label: label) { done, total in
            guard interactive else { return }
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(label): \(done)/\(total)".utf8))
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        FileHandle.standardError.write(Data(String(format: "%@: %d examples in %.1f s\n", label, run.count, run.seconds).utf8))
        return run
    }
}
