// `tailor bench`: speed and memory measurements that BENCHMARKS.md records.
import ArgumentParser
import Foundation
import TailorKernels
import TailorModels
import TailorTensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure speed and memory.", subcommands: [BenchForward.self])
}

struct BenchForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward", abstract: "Prefill tokens/s (1×N and B×N), greedy decode tokens/s with the KV cache, peak memory.")

    @OptionGroup var model: ModelOption
    @Option(help: "Prompt length for prefill.") var sequenceLength = 256
    @Option(help: "Batch size of the batched prefill.") var batchSize = 4
    @Option(help: "Tokens to decode.") var decodeTokens = 64
    @Option(help: "Repetitions; the median is reported.") var repeats = 3
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable {
        var model: String
        var backend: String
        var threads: Int
        var prefill1TokensPerSecond: Double
        var prefillBatchTokensPerSecond: Double
        var batch: Int
        var sequenceLength: Int
        var decodeTokensPerSecond: Double
        var decodeTokens: Int
        var peakTensorBytes: Int
        var peakRSSBytes: Int
    }

    func run() throws {
        let loaded = try model.load()
        let m = loaded.model, backend = CPUBackend()
        var rng = SplitMix64(seed: 42)
        let vocab = Int32(m.configuration.vocabSize)
        func tokens(_ count: Int) -> [Int32] { (0..<count).map { _ in Int32(rng.next() % UInt64(vocab)) } }
        MemoryTracker.shared.resetPeak()

        func median(_ body: () -> Void) -> Double {
            var times: [Double] = []
            for _ in 0..<max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return times.sorted()[times.count / 2]
        }
        let single = tokens(sequenceLength), batch = tokens(batchSize * sequenceLength)
        _ = m.forward(tokens: tokens(16), batch: 1, backend: backend)   // warm-up
        let prefill1 = median { _ = m.forward(tokens: single, batch: 1, backend: backend) }
        let prefillB = median { _ = m.forward(tokens: batch, batch: batchSize, backend: backend) }
        let prompt = tokens(16)
        let decode = median {
            _ = m.generate(prompt: prompt, options: GenerationOptions(maxNewTokens: decodeTokens), backend: backend)
        }
        // Decode time excludes the prompt's prefill, measured separately.
        let promptTime = median { _ = m.forward(tokens: prompt, batch: 1, backend: backend) }
        let report = Report(
            model: model.url.lastPathComponent, backend: backend.name, threads: ProcessInfo.processInfo.activeProcessorCount,
            prefill1TokensPerSecond: Double(sequenceLength) / prefill1,
            prefillBatchTokensPerSecond: Double(batchSize * sequenceLength) / prefillB,
            batch: batchSize, sequenceLength: sequenceLength,
            decodeTokensPerSecond: Double(decodeTokens - 1) / max(decode - promptTime, 1e-9), decodeTokens: decodeTokens,
            peakTensorBytes: MemoryTracker.shared.peakBytes, peakRSSBytes: peakResidentBytes())
        if json { return try printJSON(report) }
        var table = TextTable("measure", "value")
        table.add("prefill 1×\(sequenceLength)", String(format: "%.1f tokens/s", report.prefill1TokensPerSecond))
        table.add("prefill \(batchSize)×\(sequenceLength)", String(format: "%.1f tokens/s", report.prefillBatchTokensPerSecond))
        table.add("greedy decode (KV cache)", String(format: "%.1f tokens/s", report.decodeTokensPerSecond))
        table.add("peak tensor memory", formatBytes(report.peakTensorBytes))
        table.add("peak resident memory", formatBytes(report.peakRSSBytes))
        print(table.render())
    }
}

/// The process's peak resident set size in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    #if canImport(Darwin)
    getrusage(RUSAGE_SELF, &usage)
    return Int(usage.ru_maxrss)
    #else
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
    #endif
}
