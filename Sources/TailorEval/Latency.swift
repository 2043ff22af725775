// Inference cost: time to first token, per-token decode latency (P50/P99), tokens/s and peak memory.
import Foundation
import TailorModels
import TailorTensor

/// What to measure.
public struct LatencyOptions: Sendable, Equatable {
    /// Prompt length in tokens (synthetic ids, reproducible).
    public var promptTokens: Int
    /// Tokens generated per run (no stop tokens: every run makes exactly this many).
    public var newTokens: Int
    /// Measured runs.
    public var runs: Int
    /// Unmeasured runs first (page faults, caches, thread start-up).
    public var warmupRuns: Int
    /// Seed of the prompt ids.
    public var seed: UInt64

    public init(promptTokens: Int = 128, newTokens: Int = 64, runs: Int = 20, warmupRuns: Int = 1, seed: UInt64 = 0) {
        self.promptTokens = promptTokens
        self.newTokens = newTokens
        self.runs = runs
        self.warmupRuns = warmupRuns
        self.seed = seed
    }
}

/// P50, P99 and mean of a list of durations (seconds).
public struct LatencyStatistics: Sendable, Equatable, Codable {
    /// Median.
    public var p50: Double
    /// 95th percentile.
    public var p95: Double
    /// 99th percentile.
    public var p99: Double
    public var mean: Double
    /// Number of samples.
    public var count: Int

    /// numpy.percentile's default ("linear"): the value at rank q/100·(n−1), interpolated between neighbours.
    public init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
        p50 = Self.percentile(sorted, 50)
        p95 = Self.percentile(sorted, 95)
        p99 = Self.percentile(sorted, 99)
    }

    /// The q-th percentile (0...100) of ascending `sorted` values, linear interpolation.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard let first = sorted.first else { return 0 }
        guard sorted.count > 1 else { return first }
        let rank = q / 100 * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down)), high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
    }
}

/// Measured inference cost.
public struct LatencyReport: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var newTokens: Int
    public var runs: Int
    /// Prompt in → first new token out (prefill + one sampling), seconds.
    public var timeToFirstToken: LatencyStatistics
    /// Gap between consecutive new tokens (one decode step each), seconds.
    public var perToken: LatencyStatistics
    /// Decode throughput: 1 / mean per-token latency.
    public var decodeTokensPerSecond: Double
    /// Prompt tokens / median time to first token.
    public var prefillTokensPerSecond: Double
    /// All new tokens of all runs / total generation time (prefill included).
    public var endToEndTokensPerSecond: Double
    /// Peak resident memory of the process so far (weights included), bytes.
    public var peakResidentBytes: Int
    /// KV cache size of one run, bytes.
    public var kvCacheBytes: Int
}

/// Measures generation latency of a model.
public enum LatencyBenchmark {
    /// Runs `options.warmupRuns + options.runs` generations of `newTokens` tokens after a `promptTokens` prompt.
    /// - Throws: ``EvalError/invalidRequest(_:)`` when a count is not positive, or the prompt and the new tokens
    ///   exceed the model's context.
    public static func run(model: LlamaModel, options: LatencyOptions, backend: any Backend) throws -> LatencyReport {
        guard options.promptTokens > 0, options.newTokens > 0, options.runs > 0, options.warmupRuns >= 0 else {
            throw EvalError.invalidRequest("latency: --prompt-tokens, --new-tokens and --runs must be ≥ 1")
        }
        let context = model.configuration.contextLength
        let (length, overflow) = options.promptTokens.addingReportingOverflow(options.newTokens)
        guard !overflow, length <= context else {
            throw EvalError.invalidRequest("latency: --prompt-tokens \(options.promptTokens) + --new-tokens \(options.newTokens) exceed the model's context of \(context) tokens")
        }
        let prompt = syntheticPrompt(count: options.promptTokens, vocab: model.configuration.vocabSize, seed: options.seed)
        let generation = GenerationOptions(maxNewTokens: options.newTokens, temperature: 0, stopTokens: [])
        var firsts: [Double] = [], gaps: [Double] = [], total = 0.0, produced = 0
        for run in 0..<(options.warmupRuns + options.runs) {
            var stamps: [UInt64] = []
            stamps.reserveCapacity(options.newTokens)
            let start = DispatchTime.now().uptimeNanoseconds
            let tokens = model.generate(prompt: prompt, options: generation, backend: backend) { _ in
                stamps.append(DispatchTime.now().uptimeNanoseconds)
                return true
            }
            guard run >= options.warmupRuns, let first = stamps.first, let last = stamps.last else { continue }
            firsts.append(Double(first - start) / 1e9)
            for (earlier, later) in zip(stamps, stamps.dropFirst()) { gaps.append(Double(later - earlier) / 1e9) }
            total += Double(last - start) / 1e9
            produced += tokens.count
        }
        let ttft = LatencyStatistics(firsts), perToken = LatencyStatistics(gaps)
        let cache = model.emptyCache(batch: 1, capacity: options.promptTokens + options.newTokens)
        return LatencyReport(promptTokens: options.promptTokens, newTokens: options.newTokens, runs: options.runs,
                             timeToFirstToken: ttft, perToken: perToken,
                             decodeTokensPerSecond: perToken.mean > 0 ? 1 / perToken.mean : 0,
                             prefillTokensPerSecond: ttft.p50 > 0 ? Double(options.promptTokens) / ttft.p50 : 0,
                             endToEndTokensPerSecond: total > 0 ? Double(produced) / total : 0,
                             peakResidentBytes: MemoryTracker.peakResidentBytes(), kvCacheBytes: cache.byteCount)
    }

    /// Reproducible ids in [0, vocab): latency does not depend on which ids.
    public static func syntheticPrompt(count: Int, vocab: Int, seed: UInt64) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int32(truncatingIfNeeded: Int(rng.next() % UInt64(max(vocab, 1)))) }
    }

    /// Serves `prompts` as requests, `concurrency` at a time (one batched generation per group, left-padded), and
    /// measures each request's latency (submission of its group to its last token), generated tokens/s, peak memory
    /// and — given a machine price — the cost per 1,000 generated tokens.
    public static func serve(prompts: [[Int32]], model: LlamaModel, maxNewTokens: Int, concurrency: Int,
                             pricePerHour: Double?, stopTokens: Set<Int32>, backend: any Backend) throws -> RequestLatencyReport {
        guard !prompts.isEmpty, maxNewTokens > 0, concurrency > 0 else {
            throw EvalError.invalidRequest("latency: need prompts, --new-tokens ≥ 1 and --concurrency ≥ 1")
        }
        let options = GenerationOptions(maxNewTokens: maxNewTokens, temperature: 0, stopTokens: stopTokens)
        var latencies: [Double] = [], generated = 0
        let clock = ContinuousClock(), started = clock.now
        var index = 0
        while index < prompts.count {
            let group = Array(prompts[index..<min(prompts.count, index + concurrency)])
            let groupStart = clock.now
            let outputs = BatchedGeneration.generate(prompts: group, model: model, options: options, batchSize: group.count,
                                                     backend: backend)
            let seconds = (clock.now - groupStart) / .seconds(1)
            latencies += Array(repeating: seconds, count: group.count)
            generated += outputs.reduce(0) { $0 + $1.count }
            index += group.count
        }
        let total = (clock.now - started) / .seconds(1)
        let tokensPerSecond = total > 0 ? Double(generated) / total : 0
        return RequestLatencyReport(requests: prompts.count, concurrency: concurrency, generatedTokens: generated,
                                    latency: LatencyStatistics(latencies), generatedTokensPerSecond: tokensPerSecond,
                                    peakResidentBytes: MemoryTracker.peakResidentBytes(),
                                    costPer1kTokens: pricePerHour.map { tokensPerSecond > 0 ? $0 / 3600 / tokensPerSecond * 1000 : 0 })
    }

    /// A terminal table.
    public static func renderTable(_ r: LatencyReport) -> String {
        func ms(_ s: Double) -> String { String(format: "%.2f ms", s * 1000) }
        let rows: [(String, String)] = [
            ("prompt / new tokens", "\(r.promptTokens) / \(r.newTokens)  (\(r.runs) runs)"),
            ("time to first token P50", ms(r.timeToFirstToken.p50)),
            ("time to first token P95", ms(r.timeToFirstToken.p95)),
            ("time to first token P99", ms(r.timeToFirstToken.p99)),
            ("per-token latency P50", ms(r.perToken.p50)),
            ("per-token latency P95", ms(r.perToken.p95)),
            ("per-token latency P99", ms(r.perToken.p99)),
            ("decode tokens/s", String(format: "%.1f", r.decodeTokensPerSecond)),
            ("prefill tokens/s", String(format: "%.1f", r.prefillTokensPerSecond)),
            ("end-to-end tokens/s", String(format: "%.1f", r.endToEndTokensPerSecond)),
            ("peak resident memory", String(format: "%.1f MB", Double(r.peakResidentBytes) / 1e6)),
            ("KV cache", String(format: "%.2f MB", Double(r.kvCacheBytes) / 1e6)),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0 + String(repeating: " ", count: width - $0.0.count) + "  " + $0.1 }.joined(separator: "\n")
    }
}

/// Request-level serving cost: latency per request under a given concurrency, throughput, memory, price.
public struct RequestLatencyReport: Sendable, Equatable, Codable {
    public var requests: Int
    public var concurrency: Int
    public var generatedTokens: Int
    /// Seconds from a request's submission to its last token.
    public var latency: LatencyStatistics
    public var generatedTokensPerSecond: Double
    public var peakResidentBytes: Int
    /// Price of the machine per hour ÷ tokens per hour × 1000, when a price was given.
    public var costPer1kTokens: Double?

    /// A terminal table.
    public func renderTable() -> String {
        func s(_ x: Double) -> String { String(format: "%.3f s", x) }
        var rows: [(String, String)] = [
            ("requests / concurrency", "\(requests) / \(concurrency)"),
            ("request latency P50", s(latency.p50)), ("request latency P95", s(latency.p95)), ("request latency P99", s(latency.p99)),
            ("generated tokens", "\(generatedTokens)"),
            ("generated tokens/s", String(format: "%.1f", generatedTokensPerSecond)),
            ("peak resident memory", String(format: "%.1f MB", Double(peakResidentBytes) / 1e6)),
        ]
        if let cost = costPer1kTokens { rows.append(("cost per 1k generated tokens", String(format: "$%.5f", cost))) }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0 + String(repeating: " ", count: width - $0.0.count) + "  " + $0.1 }.joined(separator: "\n")
    }
}
