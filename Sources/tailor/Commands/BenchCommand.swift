// `tailor bench`: speed and memory measurements that BENCHMARKS.md records.
import ArgumentParser
import Foundation
import TailorData
import TailorEval
import TailorFormats
import TailorKernels
import TailorModels
import TailorReport
import TailorTensor
import TailorTokenizers
import TailorTraining

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure speed and memory.", subcommands: [BenchForward.self, BenchTrain.self, BenchAttention.self, BenchTokenizer.self, LatencyCommand.self])
}

struct BenchForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward", abstract: "Prefill tokens/s (1×N and B×N), greedy decode tokens/s with the KV cache, the weight products' and the memory's bytes/s, peak memory.")

    @OptionGroup var model: ModelOption
    @Option(help: "Prompt length for prefill.") var sequenceLength = 256
    @Option(help: "Batch size of the batched prefill.") var batchSize = 4
    @Option(help: "Tokens to decode.") var decodeTokens = 64
    @Option(help: "Repetitions; the median is reported.") var repeats = 3
    @OptionGroup var precision: InferencePrecisionOption
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable {
        var model: String
        var backend: String
        var computeDtype: String
        var threads: Int
        var prefill1TokensPerSecond: Double
        var prefillBatchTokensPerSecond: Double
        var batch: Int
        var sequenceLength: Int
        var decodeTokensPerSecond: Double
        var decodeTokens: Int
        /// Bytes of weights each decoded token reads.
        var decodeWeightBytes: Int
        /// Decode's weight bytes per second, and as a fraction of `memoryReadBytesPerSecond`.
        var decodeBytesPerSecond: Double
        var decodeBandwidthFraction: Double
        /// One token's weight products alone (no attention, norms, sampling): bytes per second and fraction.
        var productsBytesPerSecond: Double
        var productsBandwidthFraction: Double
        /// Memory read by all cores in the same run (`MemoryBandwidth.measureRead`).
        var memoryReadBytesPerSecond: Double
        var peakTensorBytes: Int
        var peakRSSBytes: Int
    }

    func run() throws {
        var loaded = try model.load()
        loaded.storeForInference(try precision.precision())
        let m = loaded.model, backend = CPUBackend()
        let context = m.configuration.contextLength
        guard (1...context).contains(sequenceLength), (1...1024).contains(batchSize), (0...max(0, context - 16)).contains(decodeTokens) else {
            throw ValidationError("need 1 ≤ --sequence-length ≤ \(context) (the model's context), 1 ≤ --batch-size ≤ 1024 and 0 ≤ --decode-tokens ≤ \(max(0, context - 16))")
        }
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
        // Prefill as generation runs it (and llama.cpp's eval): the prompt into a KV cache, logits of the last
        // position of each row.
        func prefill(_ tokens: [Int32], batch: Int) {
            var cache: KVCache? = m.emptyCache(batch: batch, capacity: tokens.count / batch)
            _ = m.lastPositionLogits(tokens: tokens, batch: batch, cache: &cache, backend: backend)
        }
        let single = tokens(sequenceLength), batch = tokens(batchSize * sequenceLength)
        prefill(tokens(16), batch: 1)   // warm-up
        let prefill1 = median { prefill(single, batch: 1) }
        let prefillB = batchSize == 1 ? prefill1 : median { prefill(batch, batch: batchSize) }   // 1×T is measured above
        let prompt = tokens(16)
        let decode = median {
            _ = m.generate(prompt: prompt, options: GenerationOptions(maxNewTokens: decodeTokens), backend: backend)
        }
        // Decode time excludes the prompt's prefill, measured separately.
        let promptTime = median { prefill(prompt, batch: 1) }
        let productsTime = median { for _ in 0..<5 { _ = m.decodeProducts(backend: backend) } } / 5
        let bandwidth = MemoryBandwidth.measureRead()
        let decodeRate = Double(decodeTokens - 1) / max(decode - promptTime, 1e-9)
        let decodeBytes = Double(m.decodeWeightBytes) * decodeRate, productBytes = Double(m.decodeWeightBytes) / productsTime
        let report = Report(
            model: model.url.lastPathComponent, backend: backend.name, computeDtype: precision.computeDtype,
            threads: ProcessInfo.processInfo.activeProcessorCount,
            prefill1TokensPerSecond: Double(sequenceLength) / prefill1,
            prefillBatchTokensPerSecond: Double(batchSize * sequenceLength) / prefillB,
            batch: batchSize, sequenceLength: sequenceLength,
            decodeTokensPerSecond: decodeRate, decodeTokens: decodeTokens, decodeWeightBytes: m.decodeWeightBytes,
            decodeBytesPerSecond: decodeBytes, decodeBandwidthFraction: decodeBytes / bandwidth,
            productsBytesPerSecond: productBytes, productsBandwidthFraction: productBytes / bandwidth,
            memoryReadBytesPerSecond: bandwidth,
            peakTensorBytes: MemoryTracker.shared.peakBytes, peakRSSBytes: MemoryTracker.peakResidentBytes())
        if json { return try printJSON(report) }
        var table = TextTable("measure", "value")
        table.add("products", precision.computeDtype)
        table.add("prefill 1×\(sequenceLength)", String(format: "%.1f tokens/s", report.prefill1TokensPerSecond))
        if batchSize > 1 {
            table.add("prefill \(batchSize)×\(sequenceLength)", String(format: "%.1f tokens/s", report.prefillBatchTokensPerSecond))
        }
        table.add("greedy decode (KV cache)", String(format: "%.1f tokens/s", report.decodeTokensPerSecond))
        table.add("weights read per token", ReportFormat.bytes(report.decodeWeightBytes))
        table.add("decode weight stream", String(format: "%.1f GB/s (%.0f%% of memory read)", decodeBytes / 1e9, 100 * report.decodeBandwidthFraction))
        table.add("weight products alone", String(format: "%.1f GB/s (%.0f%% of memory read)", productBytes / 1e9, 100 * report.productsBandwidthFraction))
        table.add("memory read (all cores)", String(format: "%.1f GB/s", bandwidth / 1e9))
        table.add("peak tensor memory", ReportFormat.bytes(report.peakTensorBytes))
        table.add("peak resident memory", ReportFormat.bytes(report.peakRSSBytes))
        print(table.render())
    }
}

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Training tokens/s, seconds/step and peak memory on random tokens (batch × sequence length).")

    @OptionGroup var model: ModelOption
    @Option(help: "full | lora | qlora") var method = "lora"
    @Option(help: "sft | dpo | orpo | simpo: dpo and the others train on pairs (batch-size pairs whose chosen and rejected sequences are each sequence-length tokens, half prompt); DPO with the adapter-off reference (lora/qlora) or a frozen copy (full)") var objective = "sft"
    @Option(help: "Rows (or pairs) per step.") var batchSize = 4
    @Option(help: "Tokens per row.") var sequenceLength = 256
    @Option(help: "Measured steps (after one warm-up step).") var steps = 3
    @Option(help: "true | false (default: on for qlora)") var gradientCheckpointing: Bool?
    @Option(help: "f32 | bf16: precision of the products with the weights (default: bf16 where the CPU has bf16 dot products)") var computeDtype = MatmulPrecision.native.rawValue
    @Option(help: "LoRA rank (lora, qlora), on every linear layer.") var loraRank = 16
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable {
        var model: String
        var method: String
        var loraRank: Int?
        var computeDtype: String
        var gradientCheckpointing: Bool
        var batch: Int
        var sequenceLength: Int
        var tokensPerSecond: Double
        var secondsPerStep: Double
        var peakTensorBytes: Int
        var peakRSSBytes: Int
        var trainableParameters: Int
        /// Median minor page faults (`getrusage` ru_minflt) per measured step: fresh memory the step touched.
        var minorPageFaultsPerStep: Int
    }

    func run() throws {
        guard (1...4096).contains(loraRank) else { throw ValidationError("--lora-rank must be in 1...4096") }
        guard let chosen = TrainingMethod(rawValue: method) else { throw ValidationError("--method must be full, lora or qlora") }
        guard let objectiveChoice = TrainingObjective(rawValue: objective) else { throw ValidationError("--objective must be sft, dpo, orpo or simpo") }
        guard batchSize > 0, sequenceLength > 1, steps > 0 else { throw ValidationError("batch size, sequence length and steps must be positive") }
        guard let precision = MatmulPrecision(rawValue: computeDtype) else { throw ValidationError("--compute-dtype must be f32 or bf16") }
        // The decoder is handed to the trainer (nothing else keeps its weights), as `tailor train` does.
        var pending: LoadedModel? = try model.load()
        guard let checkpoint = pending?.checkpoint else { return }
        // Bounded as `bench forward` is: the random rows are allocated before anything else can refuse them.
        let context = checkpoint.config.contextLength
        guard sequenceLength <= context, batchSize <= 1024, steps <= 10_000 else {
            throw ValidationError("need --sequence-length ≤ \(context) (the model's context), --batch-size ≤ 1024 and --steps ≤ 10000")
        }
        var rng = SplitMix64(seed: 7)
        let vocab = UInt64(checkpoint.config.vocabSize)
        let rows = (0..<(batchSize * (steps + 1))).map { _ in
            TrainingExample(inputIDs: (0..<sequenceLength).map { _ in Int32(rng.next() % vocab) })
        }
        func random(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.next() % vocab) } }
        let half = sequenceLength / 2
        let pairs = objectiveChoice.usesPairs ? (0..<(batchSize * (steps + 1))).map { _ in
            PreferencePair(promptIDs: random(half), chosenIDs: random(sequenceLength - half), rejectedIDs: random(sequenceLength - half))
        } : []
        var configuration = TrainingConfiguration()
        configuration.objective = objectiveChoice
        configuration.method = chosen
        configuration.batchSize = batchSize
        configuration.maxSteps = steps + 1
        configuration.shuffle = false
        configuration.maxLength = sequenceLength
        configuration.gradientCheckpointing = gradientCheckpointing
        configuration.loraDropout = 0
        configuration.loraR = loraRank
        configuration.loggingSteps = 1
        configuration.computeDType = precision
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-bench-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        MemoryTracker.shared.resetPeak()
        guard let decoder = pending.take()?.model else { return }
        var trainer = try Trainer(model: consume decoder, modelConfig: checkpoint.config, baseModelName: checkpoint.baseModelName().name,
                                  configuration: configuration, train: pairs.isEmpty ? rows : [], pairs: pairs,
                                  outputDirectory: out, padID: 0, backend: CPUBackend())
        // Minor faults sampled at the end of every step; the warm-up step's are left out.
        var faultsAtStep: [Int] = [minorPageFaults()]
        try trainer.run { event in if case .step = event { faultsAtStep.append(minorPageFaults()) } }
        let measured = trainer.history.dropFirst().map(\.seconds).sorted()
        let median = measured[measured.count / 2]
        let faults = zip(faultsAtStep.dropFirst(2), faultsAtStep.dropFirst()).map { $0 - $1 }.sorted()
        var report = Report(model: model.url.lastPathComponent, method: method, loraRank: nil, computeDtype: computeDtype,
                            gradientCheckpointing: configuration.resolvedGradientCheckpointing, batch: batchSize,
                            sequenceLength: sequenceLength, tokensPerSecond: Double(batchSize * sequenceLength * (pairs.isEmpty ? 1 : 2)) / median,
                            secondsPerStep: median, peakTensorBytes: MemoryTracker.shared.peakBytes,
                            peakRSSBytes: MemoryTracker.peakResidentBytes(), trainableParameters: trainer.trainableParameterCount,
                            minorPageFaultsPerStep: faults.isEmpty ? 0 : faults[faults.count / 2])
        report.loraRank = chosen == .full ? nil : loraRank
        if json { return try printJSON(report) }
        var table = TextTable("measure", "value")
        table.add("method", "\(method)\(report.loraRank.map { " r \($0)" } ?? "")\(report.gradientCheckpointing ? " + gradient checkpointing" : ""), \(computeDtype) products")
        table.add("batch", pairs.isEmpty ? "\(batchSize) × \(sequenceLength)" : "\(batchSize) pairs × 2 × \(sequenceLength), \(objective)")
        table.add("trainable parameters", report.trainableParameters.formatted())
        table.add("tokens/s", String(format: "%.1f", report.tokensPerSecond))
        table.add("seconds/step", String(format: "%.2f", report.secondsPerStep))
        table.add("peak tensor memory", ReportFormat.bytes(report.peakTensorBytes))
        table.add("peak resident memory", ReportFormat.bytes(report.peakRSSBytes))
        table.add("minor page faults/step", report.minorPageFaultsPerStep.formatted())
        print(table.render())
    }

    /// The process's minor page faults so far (`getrusage` ru_minflt).
    private func minorPageFaults() -> Int {
        var usage = rusage()
        #if canImport(Darwin)
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        #else
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        #endif
        return Int(usage.ru_minflt)
    }
}

struct BenchTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Encode throughput (MB/s) of a model's tokenizer on a corpus.",
        discussion: "tools/bench/tokenizer_bench.py writes the corpus (a JSON list of strings) and measures the tokenizers library on it.")

    @Option(help: "A model folder (tokenizer.json) or GGUF file.") var model: String
    @Option(help: "A JSON list of strings, or a text file (one text per line).") var corpus: String
    @Option(help: "Worker threads.") var threads = 1
    @Option(help: "Repetitions; the best is reported.") var repeats = 3
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable { var bytes: Int; var seconds: Double; var megabytesPerSecond: Double; var threads: Int }

    func run() throws {
        let url = URL(fileURLWithPath: (model as NSString).expandingTildeInPath)
        let tokenizer = try ModelCheckpoint.load(from: url, eager: false).tokenizer()
        guard let data = FileManager.default.contents(atPath: corpus) else { throw ValidationError("--corpus \(corpus): cannot read the file") }
        let texts = (try? JSONDecoder().decode([String].self, from: data))
            ?? String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        guard !texts.isEmpty else { throw ValidationError("--corpus \(corpus): no texts") }
        _ = TokenizerBenchmark.run(tokenizer: tokenizer, texts: Array(texts.prefix(50)), threads: threads)   // warm-up
        var best = (bytes: 0, seconds: Double.infinity)
        for _ in 0..<max(1, repeats) {
            let r = TokenizerBenchmark.run(tokenizer: tokenizer, texts: texts, threads: threads)
            if r.seconds < best.seconds { best = r }
        }
        let report = Report(bytes: best.bytes, seconds: best.seconds, megabytesPerSecond: Double(best.bytes) / best.seconds / 1e6,
                            threads: threads)
        if json { return try printJSON(report) }
        print(String(format: "%d bytes in %.3f s: %.2f MB/s (%d thread%@)", report.bytes, report.seconds,
                     report.megabytesPerSecond, threads, threads == 1 ? "" : "s"))
    }
}
