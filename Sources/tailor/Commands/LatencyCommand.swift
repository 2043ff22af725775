// `tailor bench latency`: time to first token, per-token latency P50/P99, tokens/s and peak memory of generation.
import ArgumentParser
import Foundation
import TailorEval
import TailorKernels

struct LatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Measure generation latency: time to first token, per-token P50/P99, tokens/s, peak memory.",
        discussion: "The prompt is synthetic token ids; every run generates exactly --new-tokens tokens (greedy, no stop).")

    @OptionGroup var model: ModelOption
    @Option(help: "A LoRA adapter folder (PEFT format) to apply.") var adapter: String?
    @Option(help: "Prompt length in tokens.") var promptTokens = 128
    @Option(help: "Tokens generated per run.") var newTokens = 64
    @Option(help: "Measured runs.") var runs = 20
    @Option(help: "Unmeasured warm-up runs.") var warmup = 1
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard promptTokens > 0, newTokens > 0, runs > 0, warmup >= 0 else {
            throw ValidationError("--prompt-tokens, --new-tokens and --runs must be ≥ 1, --warmup ≥ 0")
        }
    }

    func run() throws {
        var loaded = try model.load()
        if let adapter { loaded = try loaded.applyingAdapter(at: URL(fileURLWithPath: adapter)) }
        let report = try LatencyBenchmark.run(
            model: loaded.model,
            options: LatencyOptions(promptTokens: promptTokens, newTokens: newTokens, runs: runs, warmupRuns: warmup),
            backend: CPUBackend())
        if json { return try printJSON(report) }
        print(LatencyBenchmark.renderTable(report))
    }
}
