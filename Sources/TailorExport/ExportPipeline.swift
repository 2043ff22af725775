// The two jobs the CLI runs, top to bottom: load base and adapters → merge in f32 → write into a temporary sibling →
// read it back through Tailor's own readers → compare with base + adapter → rename into place (replacing an old
// output only with `overwrite`) → report (and warn on lost precision). A failed check leaves the old output as it was.
import Foundation
import TailorFormats
import TailorKernels
import TailorModels
import TailorTensor

/// `tailor merge`: adapters folded into a Hugging Face folder.
public struct MergeRequest: Sendable {
    public var base: URL
    public var adapters: [URL]
    /// Soup weights, one per adapter (normalized to sum 1); nil: equal weights.
    public var weights: [Double]?
    public var output: URL
    public var dtype: DType
    public var maxShardBytes: Int
    /// With several adapters of equal ranks and targets: also write their parameter average as one adapter here.
    public var averagedAdapterOutput: URL?
    /// Token sequences for the self-check; nil: pseudo-random ones.
    public var checkSequences: [[Int32]]?
    /// Replace existing outputs (--force), atomically once the new ones are complete and checked.
    public var overwrite: Bool

    public init(base: URL, adapters: [URL], weights: [Double]? = nil, output: URL, dtype: DType = .bf16,
                maxShardBytes: Int = 5_000_000_000, averagedAdapterOutput: URL? = nil, checkSequences: [[Int32]]? = nil,
                overwrite: Bool = false) {
        self.base = base
        self.adapters = adapters
        self.weights = weights
        self.output = output
        self.dtype = dtype
        self.maxShardBytes = maxShardBytes
        self.averagedAdapterOutput = averagedAdapterOutput
        self.checkSequences = checkSequences
        self.overwrite = overwrite
    }
}

/// `tailor export gguf`: a (merged) model or a LoRA adapter as GGUF.
public struct GGUFExportRequest: Sendable {
    public var base: URL
    public var adapter: URL?
    public var output: URL
    public var precision: ExportPrecision
    /// Write only the adapter (spec §4.7), not the model.
    public var loraOnly: Bool
    public var checkSequences: [[Int32]]?
    /// Replace an existing file (--force), atomically once the new one is complete and checked.
    public var overwrite: Bool

    public init(base: URL, adapter: URL? = nil, output: URL, precision: ExportPrecision = .f16, loraOnly: Bool = false,
                checkSequences: [[Int32]]? = nil, overwrite: Bool = false) {
        self.base = base
        self.adapter = adapter
        self.output = output
        self.precision = precision
        self.loraOnly = loraOnly
        self.checkSequences = checkSequences
        self.overwrite = overwrite
    }
}

/// What a merge or export produced and measured.
public struct ExportResult: Sendable {
    public var output: URL
    /// Per-layer precision of the adapter update in the export type (empty without adapters).
    public var precision: MergeReport
    /// The self-check (nil for --lora-only, which is checked tensor by tensor instead).
    public var check: ExportCheckReport?
    /// Warnings to show the user.
    public var warnings: [String]
}

/// The merge and export jobs.
public enum ExportPipeline {
    /// A base model read from disk, any adapter removed.
    struct Base {
        var checkpoint: ModelCheckpoint
        var model: LlamaModel
    }

    static func loadBase(_ url: URL) throws -> Base {
        let loaded = try LoadedModel.load(from: url)
        var weights = loaded.model.weights
        for l in weights.layers.indices { for slot in LinearSlot.allCases { weights.layers[l][linear: slot]?.lora = nil } }
        return Base(checkpoint: loaded.checkpoint, model: LlamaModel(configuration: loaded.model.configuration, weights: weights))
    }

    /// The reference of the self-check: one adapter attached unmerged (PEFT's forward), or for a soup the f32 merge.
    static func reference(base: Base, sets: [WeightedAdapters]) throws -> LlamaModel {
        var weights = base.model.weights
        if sets.count == 1, sets[0].weight == 1 {
            for (module, lora) in sets[0].adapters {
                let parts = module.split(separator: ".", maxSplits: 3).map(String.init)
                guard parts.count == 4, let l = Int(parts[2]), let slot = LinearSlot(moduleName: parts[3]) else { continue }
                weights.layers[l][linear: slot]?.lora = lora
            }
        } else if !sets.isEmpty {
            weights = try LoRAMerge.merge(weights, adapters: sets, dtype: .f32).weights
        }
        return LlamaModel(configuration: base.model.configuration, weights: weights)
    }

    /// Fails when the check is beyond the type's tolerance (run on the temporary output: nothing is renamed).
    static func enforce(_ check: ExportCheckReport, precision: ExportPrecision) throws {
        guard ExportCheck.passes(check, precision: precision) else {
            let limit = ExportCheck.tolerance(precision) * max(1, check.maxReferenceLogit)
            throw ExportError.verificationFailed("max |Δlogit| \(check.maxLogitDifference) exceeds \(limit) for \(precision.rawValue) "
                + "(logits up to \(check.maxReferenceLogit)); nothing was written")
        }
    }

    /// The self-check of an output written at `url` (still the temporary one): reload, compare, enforce.
    static func check(_ url: URL, base: Base, sets: [WeightedAdapters], sequences: [[Int32]]?, precision: ExportPrecision) throws -> ExportCheckReport {
        let exported = try LoadedModel.load(from: url)
        let probes = sequences ?? ExportCheck.probeSequences(vocabSize: base.model.configuration.vocabSize)
        let text = (try? base.checkpoint.tokenizer()).map { $0.encode(ExportCheck.referenceText, addSpecialTokens: true).map(Int32.init) }
        let report = ExportCheck.compare(reference: try reference(base: base, sets: sets), exported: exported.model, sequences: probes,
                                         text: text)
        try enforce(report, precision: precision)
        return report
    }

    /// Merges the adapters of `request` into its base and writes the folder, then checks it.
    public static func merge(_ request: MergeRequest) throws -> ExportResult {
        guard !request.adapters.isEmpty else { throw ExportError.missingAdapterFile(path: "(no --adapter given)") }
        try AtomicOutput.checkWritable(request.output, isFolder: true, overwrite: request.overwrite)
        if let averaged = request.averagedAdapterOutput {
            try AtomicOutput.checkWritable(averaged, isFolder: true, overwrite: request.overwrite)
        }
        let base = try loadBase(request.base)
        let adapters = try request.adapters.map { try LoadedAdapter(directory: $0, base: base.model.weights) }
        let weights = try ModelSoup.normalizedWeights(request.weights, count: adapters.count)
        let sets = adapters.count == 1 ? [WeightedAdapters(adapters: adapters[0].adapters, source: adapters[0].directory.path)]
                                       : ModelSoup.weightedSets(adapters, weights: weights)
        let precision: ExportPrecision = request.dtype == .bf16 ? .bf16 : request.dtype == .f16 ? .f16 : .f32
        let (merged, report) = try LoRAMerge.merge(base.model.weights, adapters: sets, dtype: request.dtype, precision: precision)
        var check: ExportCheckReport?
        try MergedFolder.write(weights: merged, config: base.checkpoint.config, dtype: request.dtype, source: base.checkpoint,
                               maxShardBytes: request.maxShardBytes, to: request.output, overwrite: request.overwrite) { folder in
            check = try Self.check(folder, base: base, sets: sets, sequences: request.checkSequences, precision: precision)
        }
        var warnings: [String] = []
        if let warning = report.warning(precision: precision) { warnings.append(warning) }
        if adapters.contains(where: { $0.configuration.loraDropout > 0 }) {
            warnings.append("lora_dropout is a training-time setting: the merged model has no adapter and no dropout")
        }
        if let averagedURL = request.averagedAdapterOutput, adapters.count > 1 {
            if let averaged = ModelSoup.averagedAdapter(adapters, weights: weights) {
                var w = base.model.weights
                for (module, lora) in averaged {
                    let parts = module.split(separator: ".", maxSplits: 3).map(String.init)
                    if parts.count == 4, let l = Int(parts[2]), let slot = LinearSlot(moduleName: parts[3]) { w.layers[l][linear: slot]?.lora = lora }
                }
                var config = adapters[0].configuration
                config.loraDropout = 0
                try AtomicOutput.writeFolder(averagedURL, overwrite: request.overwrite) { try PEFTAdapter.save(w, config: config, to: $0) }
            } else {
                warnings.append("adapters differ in targets, ranks or scalings: no averaged adapter written (the merged soup is)")
            }
        }
        return ExportResult(output: request.output, precision: report, check: check, warnings: warnings)
    }

    /// Writes the GGUF of `request` (model or adapter) and checks it.
    public static func exportGGUF(_ request: GGUFExportRequest) throws -> ExportResult {
        try AtomicOutput.checkWritable(request.output, isFolder: false, overwrite: request.overwrite)
        let base = try loadBase(request.base)
        let config = base.checkpoint.config
        let adapter = try request.adapter.map { try LoadedAdapter(directory: $0, base: base.model.weights) }
        let name = request.base.deletingPathExtension().lastPathComponent
        if request.loraOnly {
            guard let adapter else { throw ExportError.missingAdapterFile(path: "(--lora-only needs --adapter)") }
            try LoRAGGUFExport.write(adapters: adapter.adapters, config: config, name: adapter.directory.lastPathComponent,
                                     to: request.output, overwrite: request.overwrite) { file in
                try verifyLoRAFile(file, adapters: adapter.adapters, config: config)
            }
            return ExportResult(output: request.output, precision: MergeReport(), check: nil, warnings: [])
        }
        let sets = adapter.map { [WeightedAdapters(adapters: $0.adapters, source: $0.directory.path)] } ?? []
        let (merged, report) = try LoRAMerge.merge(base.model.weights, adapters: sets, dtype: .f32, precision: request.precision)
        var check: ExportCheckReport?
        try GGUFExport.write(weights: merged, config: config, precision: request.precision, name: name,
                             tokenizer: try GGUFTokenizerMetadata.keys(for: base.checkpoint), to: request.output,
                             overwrite: request.overwrite) { file in
            check = try Self.check(file, base: base, sets: sets, sequences: request.checkSequences, precision: request.precision)
        }
        var warnings: [String] = []
        if let warning = report.warning(precision: request.precision) { warnings.append(warning) }
        return ExportResult(output: request.output, precision: report, check: check, warnings: warnings)
    }

    /// Reads a written LoRA GGUF back and compares every tensor with the adapter (exact: F32 both ways).
    static func verifyLoRAFile(_ url: URL, adapters: [String: LoRAAdapter], config: ModelConfig) throws {
        let file = try GGUFFile(url: url)
        for (module, lora) in adapters {
            guard let name = GGUFNames.ggufName(module + ".weight") else { continue }
            let a = try file.tensor(name + ".lora_a").floats()
            guard a == lora.a.converted(to: .f32).floats() else {
                throw ExportError.verificationFailed("\(url.path): \(name).lora_a differs from the adapter after writing")
            }
        }
    }
}
