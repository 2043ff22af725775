// `tailor merge`: fold one LoRA/QLoRA adapter (or a weighted soup of several) into the base model and write a
// Hugging Face folder, then check it against base + adapter.
import ArgumentParser
import Foundation
import TailorExport
import TailorFormats

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge LoRA/DoRA adapters into the base model (W + scaling·B·A in f32) and write a Hugging Face folder.",
        discussion: "With several --adapter options the updates are averaged (model soup), weighted by --weights. "
            + "A 4-bit base is dequantized to --dtype. The output is checked against base + adapter before the command ends.")

    @Option(help: "Base model: a Hugging Face folder or a .gguf file.") var model: String
    @Option(help: "PEFT adapter folder (repeat for a model soup).") var adapter: [String] = []
    @Option(help: "Output folder (must not exist or be empty, unless --force).") var out: String
    @Option(help: "bf16 | f16 | f32") var dtype = "bf16"
    @Option(help: "Largest safetensors shard, e.g. 5GB, 500MB.") var maxShardSize = "5GB"
    @Option(help: "Soup weights, comma-separated, one per adapter (normalized to sum 1).") var weights: String?
    @Option(help: "Also write the parameter average of equal-shaped adapters as one adapter folder here.") var averagedAdapter: String?
    @Flag(help: "Replace an existing --out (and --averaged-adapter) folder, once the new one is written and checked.") var force = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        guard !adapter.isEmpty else { throw ValidationError("give at least one --adapter") }
        let soup: [Double]? = try weights.map { text in
            try text.split(separator: ",").map { part in
                guard let v = Double(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--weights: '\(part)' is not a number")
                }
                return v
            }
        }
        let request = MergeRequest(
            base: URL(fileURLWithPath: (model as NSString).expandingTildeInPath),
            adapters: adapter.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }, weights: soup,
            output: URL(fileURLWithPath: (out as NSString).expandingTildeInPath),
            dtype: try MergedFolder.dtype(named: dtype), maxShardBytes: try SafeTensorsWriter.parseSize(maxShardSize),
            averagedAdapterOutput: averagedAdapter.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }, overwrite: force)
        guard FileManager.default.fileExists(atPath: request.base.path) else { throw ValidationError("--model \(model): no such file or folder") }
        let result = try ExportPipeline.merge(request)
        try printExportResult(result, json: json)
    }
}

/// Prints a merge or export result: warnings on standard error, the check on standard output.
func printExportResult(_ result: ExportResult, json: Bool) throws {
    for warning in result.warnings {
        FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
    }
    if json {
        struct Output: Encodable {
            var output: String
            var check: ExportCheckReport?
            var perplexityDelta: Double?
            var adapterUpdatesBelowPrecision: Double
            var warnings: [String]
        }
        try printJSON(Output(output: result.output.path, check: result.check, perplexityDelta: result.check?.perplexityDelta,
                             adapterUpdatesBelowPrecision: result.precision.total.vanishedFraction, warnings: result.warnings))
        return
    }
    print("wrote \(result.output.path)")
    if let check = result.check { print(check.summary) }
    let total = result.precision.total
    if total.changed > 0 {
        print(String(format: "adapter updates below half a storage step: %.1f%% of %@ changed weights", total.vanishedFraction * 100, total.changed.formatted()))
    }
}
