// `tailor plan`: memory and time of full fine-tuning, LoRA and QLoRA before anything runs, and a recommendation.
import ArgumentParser
import Foundation
import TailorFormats
import TailorPlan

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Predict memory and time of full fine-tuning, LoRA and QLoRA, and recommend one.",
        discussion: "Give --model (a folder or GGUF) or --params (e.g. 7B, with --arch llama|qwen2|mistral|smollm|phi3|gemma2) or --preset (e.g. Llama-3.1-8B).")

    @Option(help: "A model on disk.") var model: String?
    @Option(help: "A parameter count such as 7B or 135M (the nearest known configuration of --arch is used).") var params: String?
    @Option(help: "Family for --params: llama, qwen2, mistral, smollm, phi3, gemma2.") var arch = "llama"
    @Option(help: "A known configuration, e.g. Llama-3.1-8B, Qwen2.5-7B, SmolLM2-135M.") var preset: String?
    @Option(help: "Memory per device, e.g. 24GB or 80GiB.") var memory: String
    @Option(help: "Number of devices.") var gpus = 1
    @Option(help: "Tokens per row.") var seqLen = 2048
    @Option(help: "Rows per micro-batch.") var batchSize = 4
    @Option(help: "Gradient accumulation steps.") var gradientAccumulation = 1
    @Option(help: "Training rows (drives rank, epochs and data-size warnings).") var examples: Int?
    @Option(help: "LoRA rank (default: by data size).") var loraR: Int?
    @Option(help: "LoRA targets: all-linear, a comma-separated list, or re:<regex>.") var targetModules = "all-linear"
    @Option(help: "Weight dtype: bf16, f16 or f32.") var dtype = "bf16"
    @Flag(help: "Recompute activations in backward.") var gradientCheckpointing = false
    @Option(help: "Measured or assumed throughput per device in TFLOP/s, for time estimates.") var tflops: Double?
    @Option(help: "Also predict data-parallel training on this many CPU nodes (mpirun -np N tailor train): memory per rank and bytes sent per step.") var nodes: Int?
    @Option(help: "With --nodes: 0 replicates the AdamW state, 1 partitions it (ZeRO-1).") var zero = 0
    @Option(help: "With --nodes: network rate in Gbit/s.") var networkGbits = 10.0
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let shape: ModelShape
        switch (model, params, preset) {
        case (let path?, nil, nil):
            let checkpoint = try ModelCheckpoint.load(from: URL(fileURLWithPath: path), eager: false)
            shape = ModelShape(config: checkpoint.config, name: URL(fileURLWithPath: path).lastPathComponent)
        case (nil, let count?, nil):
            shape = try ModelPresets.resolve(parameters: ModelPresets.parseParameterCount(count), family: ModelPresets.family(arch))
        case (nil, nil, let name?):
            shape = try ModelPresets.named(name).shape
        default:
            throw ValidationError("give exactly one of --model, --params or --preset")
        }
        var request = PlanRequest(model: shape, memoryPerDevice: try ByteSize.parse(memory))
        request.deviceCount = gpus
        request.sequenceLength = seqLen
        request.microBatchSize = batchSize
        request.gradientAccumulation = gradientAccumulation
        request.exampleCount = examples
        request.loraRank = loraR
        request.loraTargets = TargetModules.parse(targetModules)
        request.weightDType = try WeightDType.parse(dtype)
        request.gradientCheckpointing = gradientCheckpointing
        request.flopsPerSecond = tflops.map { $0 * 1e12 }
        let plan = try Planner.plan(request)
        let parallel = try nodes.map { try plan.dataParallel(nodes: $0, zero: zero, networkBitsPerSecond: networkGbits * 1e9) }
        if json {
            print(String(decoding: try plan.jsonData(), as: UTF8.self))
            if let parallel { print(String(decoding: try JSONEncoder.pretty.encode(parallel), as: UTF8.self)) }
        } else {
            print(plan.renderText())
            if let parallel, let first = parallel.first {
                print("\ndata parallel on \(first.nodes) nodes (MPI, ZeRO-\(first.zero)), \(String(format: "%g", networkGbits)) Gbit/s:")
                var table = TextTable("per rank")
                table.header += parallel.map(\.method.displayName)
                table.rows = [
                    ["memory"] + parallel.map { ByteSize.format($0.memoryPerRank) },
                    ["optimizer state"] + parallel.map { ByteSize.format($0.optimizerPerRank) },
                    ["f32 masters"] + parallel.map { $0.method == .full ? ByteSize.format($0.mastersPerRank) : "-" },
                    ["gradient summed / step"] + parallel.map { ByteSize.format($0.gradientBytes) },
                    ["sent / step"] + parallel.map { ByteSize.format($0.sentPerRank) },
                    ["network time / step"] + parallel.map { String(format: "%.3f s", $0.secondsPerStep) },
                ]
                print(table.render())
                if first.zero == 1 {
                    print(request.weightDType == .float32
                          ? "ZeRO-1 with f32 products splits only the AdamW state: the products read the f32 weights, so every rank keeps every master."
                          : "ZeRO-1: a rank keeps the f32 masters of its own linear weights (and untied head) and \(request.weightDType.rawValue) copies of the others', sent after each step; embedding and norms stay f32 on every rank.")
                }
            }
        }
    }
}
