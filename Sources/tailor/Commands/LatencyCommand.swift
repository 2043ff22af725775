// `tailor bench latency`: time to first token, per-token latency P50/P99, tokens/s and peak memory of generation.
import ArgumentParser
import Foundation
import TailorEval
import TailorChat
import TailorKernels
import TailorModels

struct LatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Measure generation latency: time to first token, per-token and per-request P50/P95/P99, tokens/s, peak memory, cost.",
        discussion: "Without --prompts: a synthetic prompt of --prompt-tokens ids, every run generating exactly --new-tokens tokens (greedy, no stop). With --prompts: each line (text, or JSONL with \"prompt\") is a user request rendered with the chat template and served --concurrency at a time.")

    @OptionGroup var model: ModelOption
    @Option(help: "A LoRA adapter folder (PEFT format) to apply.") var adapter: String?
    @OptionGroup var precision: InferencePrecisionOption
    @Option(help: "Prompt length in tokens.") var promptTokens = 128
    @Option(help: "Tokens generated per run.") var newTokens = 64
    @Option(help: "Measured runs.") var runs = 20
    @Option(help: "Unmeasured warm-up runs.") var warmup = 1
    @Option(help: "Requests: a text file (one prompt per line) or JSONL with \"prompt\".") var prompts: String?
    @Option(help: "Requests served at once (batched) with --prompts.") var concurrency = 1
    @Option(help: "Machine price in USD per hour, for the cost per 1k generated tokens.") var pricePerHour: Double?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard promptTokens > 0, newTokens > 0, runs > 0, warmup >= 0 else {
            throw ValidationError("--prompt-tokens, --new-tokens and --runs must be ≥ 1, --warmup ≥ 0")
        }
    }

    func run() throws {
        var loaded = try model.load()
        if let adapter { loaded = try loaded.applyingAdapter(at: URL(fileURLWithPath: adapter)) }
        loaded.storeForInference(try precision.precision())
        if let prompts {
            guard concurrency > 0 else { throw ValidationError("--concurrency must be ≥ 1") }
            let chat = try ChatModel(loaded: loaded)
            let requests = try readTexts(prompts, field: "prompt", linesAreTexts: true).map { try chat.promptIDs(for: [ChatMessage(role: "user", content: $0)]) }
            let report = try LatencyBenchmark.serve(prompts: requests, model: loaded.model, maxNewTokens: newTokens,
                                                    concurrency: concurrency, pricePerHour: pricePerHour,
                                                    stopTokens: chat.stopTokens, backend: CPUBackend())
            if json { return try printJSON(report) }
            return print(report.renderTable())
        }
        let report = try LatencyBenchmark.run(
            model: loaded.model,
            options: LatencyOptions(promptTokens: promptTokens, newTokens: newTokens, runs: runs, warmupRuns: warmup),
            backend: CPUBackend())
        if json { return try printJSON(report) }
        print(LatencyBenchmark.renderTable(report))
    }
}
