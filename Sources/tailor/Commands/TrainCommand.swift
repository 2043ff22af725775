// `tailor train`: full fine-tuning or LoRA. Configuration flows defaults < YAML recipe (--config) < flags.
import ArgumentParser
import Foundation
import TailorReport
import TailorKernels
import TailorChat
import TailorData
import TailorDistributed
import TailorExport
import TailorFormats
import TailorModels
import TailorTokenizers
import TailorTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Fine-tune a model: full fine-tuning, LoRA or QLoRA.",
        discussion: "Every hyperparameter is a flag and a key of a YAML recipe (--config); flags override the recipe. Keys: \(TrainingConfiguration.keys.sorted().joined(separator: ", ")).")

    @OptionGroup var model: ModelOption
    @Option(help: "Training data: a dataset written by `tailor prepare` (.tdata), or JSONL rows with \"text\", or \"input_ids\" (+ optional \"labels\").") var data: String
    @Option(help: "Validation data in the same format.") var evalData: String?
    @Option(help: "Output folder: the adapter or model, checkpoints, metrics.jsonl.") var out: String
    @Option(help: "A YAML recipe of hyperparameters.") var config: String?
    @Option(help: "The base's Hugging Face Hub name recorded in the adapter (base_model_name_or_path), for PEFT to load it. Default: the name the model folder, cache folder or GGUF knows.") var baseModelName: String?
    @Flag(help: "Continue from the latest checkpoint in --out.") var resume = false
    @Flag(help: "Replace the run in a non-empty --out, or --resume despite a changed configuration or data.") var force = false
    @Flag(help: "Train even when the preflight checks report errors.") var ignorePreflight = false
    @Flag(help: "Fail unless started as one of several ranks (`mpirun -np N tailor train …`); without it, a launcher is detected from the environment.") var distributed = false
    @Option(help: "With several ranks: 0 replicates the AdamW state on every rank; 1 partitions it (ZeRO-1).") var zero: Int = 0

    @Option(help: "full | lora | qlora") var method: String?
    @Option var learningRate: Double?
    @Option var epochs: Double?
    @Option var maxSteps: Int?
    @Option var batchSize: Int?
    @Option var gradientAccumulationSteps: Int?
    @Option(help: "≥ 1: steps; < 1: a fraction of all steps.") var warmupSteps: Double?
    @Option var warmupRatio: Double?
    @Option(help: "linear | cosine | constant | constant_with_warmup") var lrSchedulerType: String?
    @Option var weightDecay: Double?
    @Option(help: "0 disables clipping.") var maxGradNorm: Double?
    @Option var adamBeta1: Double?
    @Option var adamBeta2: Double?
    @Option var adamEpsilon: Double?
    @Option var seed: UInt64?
    @Option(help: "true | false") var shuffle: Bool?
    @Option(help: "true | false") var gradientCheckpointing: Bool?
    @Option var maxLength: Int?
    @Option(help: "f32 | bf16: precision of the products with the weights (bf16: about 2× faster on CPUs with bf16 dot products; LoRA/QLoRA then store the frozen base as bf16; default: bf16 where the CPU has them)") var computeDtype: String?
    @Option var neftuneNoiseAlpha: Double?
    @Option var loraR: Int?
    @Option var loraAlpha: Double?
    @Option var loraDropout: Double?
    @Option(help: "\"all-linear\", names such as q_proj,v_proj, or a regex.") var targetModules: String?
    @Option(help: "true | false") var useRslora: Bool?
    @Option(help: "Start LoRA from this PEFT adapter folder.") var initAdapter: String?
    @Option var evalSteps: Int?
    @Option var loggingSteps: Int?
    @Option var saveSteps: Int?
    @Option var saveTotalLimit: Int?
    @Option(help: "true | false") var skipNonFiniteSteps: Bool?
    @Option(name: .customLong("bnb-4bit-quant-type"), help: "QLoRA: nf4 | fp4") var bnb4bitQuantType: String?
    @Option(name: .customLong("bnb-4bit-use-double-quant"), help: "QLoRA: true | false") var bnb4bitUseDoubleQuant: Bool?
    @Option(name: .customLong("bnb-4bit-blocksize"), help: "QLoRA block size (64)") var bnb4bitBlocksize: Int?
    @Option(help: "none | tensorboard: also write TensorBoard event files to <out>/runs") var reportTo: String?
    @OptionGroup var preference: PreferenceOptions

    /// The flags the user gave, under their recipe keys.
    var flagValues: [String: Any] {
        let all: [(String, Any?)] = [
            ("method", method), ("learning_rate", learningRate), ("epochs", epochs), ("max_steps", maxSteps),
            ("batch_size", batchSize), ("gradient_accumulation_steps", gradientAccumulationSteps),
            ("warmup_steps", warmupSteps), ("warmup_ratio", warmupRatio), ("lr_scheduler_type", lrSchedulerType),
            ("weight_decay", weightDecay), ("max_grad_norm", maxGradNorm), ("adam_beta1", adamBeta1),
            ("adam_beta2", adamBeta2), ("adam_epsilon", adamEpsilon), ("seed", seed), ("shuffle", shuffle),
            ("gradient_checkpointing", gradientCheckpointing), ("max_length", maxLength),
            ("compute_dtype", computeDtype),
            ("neftune_noise_alpha", neftuneNoiseAlpha), ("lora_r", loraR), ("lora_alpha", loraAlpha),
            ("lora_dropout", loraDropout), ("target_modules", targetModules), ("use_rslora", useRslora),
            ("init_adapter", initAdapter), ("eval_steps", evalSteps), ("logging_steps", loggingSteps),
            ("save_steps", saveSteps), ("save_total_limit", saveTotalLimit), ("skip_non_finite_steps", skipNonFiniteSteps),
            ("bnb_4bit_quant_type", bnb4bitQuantType), ("bnb_4bit_use_double_quant", bnb4bitUseDoubleQuant),
            ("bnb_4bit_blocksize", bnb4bitBlocksize), ("report_to", reportTo),
        ] + preference.flagValues
        var values: [String: Any] = [:]
        for (key, value) in all { if let value { values[key] = value } }
        return values
    }

    /// defaults < recipe < flags, as one validated configuration.
    func resolvedConfiguration() throws -> TrainingConfiguration {
        var merged: [String: Any] = [:]
        var origins: [String: String] = [:]
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ValidationError("--config \(config): cannot read the file")
            }
            let (recipe, lines) = try RecipeFile.load(text, file: config)
            origins = lines
            let known = Set(TrainingConfiguration.keys)
            if let unknown = recipe.keys.sorted().first(where: { !known.contains($0) }) {
                throw TrainingError.unknownKey(unknown, file: config, known: Array(known))
            }
            merged = recipe
        }
        merged.merge(flagValues) { _, flag in flag }
        for key in flagValues.keys { origins[key] = "--" + key.replacingOccurrences(of: "_", with: "-") }
        return try TrainingConfiguration.decode(values: merged, origins: origins)
    }

    func run() throws {
        guard let stage = ZeROStage(rawValue: zero) else { throw ValidationError("--zero must be 0 or 1, got \(zero)") }
        if let baseModelName, !HubName.isRepositoryID(baseModelName) {
            throw ValidationError("--base-model-name \(baseModelName): expected a Hub repository id such as ORG/NAME, not a path")
        }
        let communicator = try Communicators.detect(insist: distributed)
        try runOnRanks(communicator) { try train(on: DataParallelism(communicator: communicator, zero: stage)) }
    }

    func train(on parallelism: DataParallelism) throws {
        let configuration = try resolvedConfiguration()
        // Rank 0 checks (and with --force clears) the run folder before any rank writes to it.
        if parallelism.isPrimary { try RunFolder.prepare(URL(fileURLWithPath: out), resume: resume, force: force) }
        try parallelism.communicator.barrier()
        // Only the decoder is kept, and it is handed to the trainer: full fine-tuning then updates the decoded
        // weights in place instead of copying them on the first step.
        var pending: LoadedModel? = try model.load()
        guard let checkpoint = pending?.checkpoint, let configurationOfModel = pending?.model.configuration else { return }
        let tokenizer = try? checkpoint.tokenizer()
        let pairs = configuration.objective.usesPairs
            ? try readPreferencePairs(data, tokenizer: tokenizer, vocabularySize: configurationOfModel.vocabSize,
                                      maxLength: configuration.maxLength, skipBad: preference.skipBad) : []
        let train = pairs.isEmpty ? try readTrainingRows(data, tokenizer: tokenizer, maxLength: configuration.maxLength)
            : pairs.map { TrainingExample(inputIDs: $0.promptIDs + $0.chosenIDs) }   // for the preflight's length checks
        let evaluation = try evalData.map { try readTrainingRows($0, tokenizer: tokenizer, maxLength: configuration.maxLength) } ?? []
        guard let decoder = pending.take()?.model else { return }
        let longest = train.map(\.inputIDs.count).max() ?? 0
        let predicted = TrainingMemory.predict(configuration: configuration, modelConfig: checkpoint.config,
                                               batchRows: configuration.batchSize, length: min(longest, configuration.maxLength),
                                               mapped: !checkpoint.format.description.hasPrefix("GGUF"))
        let findings = TrainingPreflight.findings(configuration: configuration, model: decoder, rows: train,
                                                  predictedBytes: predicted.total,
                                                  trainingTemplate: TrainingPreflight.preparedTemplate(forData: data),
                                                  modelTemplate: tokenizer?.chatTemplate)
        for finding in findings { print("preflight \(finding)") }
        if findings.contains(where: { $0.severity == .error }) && !ignorePreflight {
            throw ValidationError("preflight found errors (above); fix them or pass --ignore-preflight")
        }
        let padID = Int32(checkpoint.config.padTokenID ?? checkpoint.config.eosTokenIDs.first ?? 0)
        let base = checkpoint.baseModelName(override: baseModelName)
        if !base.resolvable { print("note: the base's Hub name is unknown; the adapter records '\(base.name)' (pass --base-model-name ORG/NAME so PEFT can load it)") }
        var trainer = try Trainer(model: consume decoder, modelConfig: checkpoint.config, baseModelName: base.name,
                                  configuration: configuration, train: pairs.isEmpty ? train : [], evaluation: evaluation, pairs: pairs,
                                  outputDirectory: URL(fileURLWithPath: out), padID: padID, backend: CPUBackend())
        trainer.parallelism = parallelism
        let total = configurationOfModel.parameterCount + (configuration.method.trainsAdapters ? trainer.trainableParameterCount : 0)
        print("tailor train: \(pairs.isEmpty ? "\(train.count) rows" : "\(pairs.count) preference pairs, objective \(configuration.objective.rawValue)"), \(trainer.totalSteps) optimizer steps (warmup \(trainer.warmupSteps)), method \(configuration.method.rawValue), \(configuration.resolvedComputeDType.rawValue) products")
        // As PEFT's print_trainable_parameters.
        print(String(format: "trainable params: %@ || all params: %@ || trainable%%: %.4f", trainer.trainableParameterCount.formatted(),
                     total.formatted(), 100 * Double(trainer.trainableParameterCount) / Double(total)))
        print("predicted peak memory (Tailor engine, longest batch): \(ReportFormat.bytes(predicted.total))")
        print("configuration:")
        print(String(decoding: try JSONEncoder.pretty.encode(trainer.configuration), as: UTF8.self))
        if parallelism.size > 1 {
            print("data parallel: \(parallelism.size) ranks, global batch \(configuration.batchSize * configuration.gradientAccumulationSteps) rows, ZeRO-\(parallelism.zero.rawValue)")
            if parallelism.zero == .optimizerState, configuration.method == .full {
                print(trainer.configuration.resolvedComputeDType == .bf16
                      ? "ZeRO-1: each rank keeps the f32 masters and AdamW state of its own tensors; of the others' linear weights (and an untied head) only the bf16 copies the products read; embedding and norms stay f32 on every rank (read in f32)"
                      : "ZeRO-1: AdamW state split; every rank keeps every f32 master (f32 products read the f32 weights; --compute-dtype bf16 also splits the masters)")
            }
        }
        let report = TrainingReport(model: model.model, data: data, configuration: trainer.configuration,
                                    preflight: findings.map { "\($0)" }, records: [], totalSteps: trainer.totalSteps, finished: false)
        // Rank 0 alone shows progress and writes the report and TensorBoard files.
        var monitor = parallelism.isPrimary
            ? try TrainingMonitor(out: out, report: report, tensorBoard: configuration.reportTo == "tensorboard") : nil
        var failure: Error?, firstStep = 0
        trainer.resumeDespiteChanges = force
        let interrupts = Interrupts.install()
        trainer.interruption = { interrupts.signal }
        do {
            try trainer.run(resume: resume) { event in
                if case .started(_, let first, _) = event { firstStep = first }
                do { try monitor?.handle(event) } catch { if failure == nil { failure = error } }
            }
        } catch let TrainingError.interrupted(step, signal, checkpoint) {
            monitor?.progress.note("interrupted after step \(step); checkpoint \(checkpoint.path)")
            print("resume with: \(Interrupts.resumeCommand())")
            throw ExitCode(128 + signal)
        }
        if let failure { throw failure }
        // A fully fine-tuned model is a complete Hugging Face folder, and an adapter carries the tokenizer as PEFT +
        // tokenizer.save_pretrained leave it: tokenizer files (written from the GGUF's tokenizer when the base was a
        // GGUF) and the chat template in tokenizer_config.json.
        if parallelism.size > 1 { try printCommunicationSummary(trainer, steps: trainer.totalSteps - firstStep) }
        guard parallelism.isPrimary else { return }
        try MergedFolder.writeTokenizer(of: checkpoint, into: URL(fileURLWithPath: out))
        print("saved \(configuration.method.trainsAdapters ? "adapter" : "model") to \(out)")
        try monitor?.finish()
    }
}

/// Rows for training: a prepared dataset (`tailor prepare`, .tdata); JSONL rows with "text" or "input_ids"; or any
/// other dataset `tailor prepare` reads (chat messages, alpaca, sharegpt, prompt/completion, CSV, JSON), prepared
/// on the fly with prepare's defaults, the model's chat template and `maxLength`.
func readTrainingRows(_ path: String, tokenizer: Tokenizer?, maxLength: Int) throws -> [TrainingExample] {
    let url = URL(fileURLWithPath: path)
    if url.pathExtension == "tdata" {
        return try PreparedDataset.read(url).map {
            TrainingExample(inputIDs: $0.inputIDs, labels: $0.labels, segments: $0.segments, positions: $0.positions)
        }
    }
    if let tokenizer, !isTextOrIDRows(url) {
        var options = PrepareOptions()
        options.validationFraction = 0
        options.maxLength = maxLength
        options.sampleCount = 0
        let template = try tokenizer.chatTemplate.map { try ChatTemplate(source: $0) }
        let prepared = try DataPipeline.prepare(url, tokenizer: tokenizer, template: template, options: options)
        let report = prepared.report
        print("prepared \(path) on the fly: \(report.rowsKept) of \(report.rowsRead) rows kept, \(report.trainedTokens) trained of \(report.trainedTokens + report.maskedTokens) tokens")
        guard !prepared.train.isEmpty, report.trainedTokens > 0 else {
            throw ValidationError("\(path): no row has a token to train on (every row was dropped or fully masked); run `tailor prepare` to see why")
        }
        return prepared.train.map { TrainingExample(inputIDs: $0.inputIDs, labels: $0.labels, segments: $0.segments, positions: $0.positions) }
    }
    return try TrainingData.readJSONL(url, tokenize: tokenizer.map { t in { t.encode($0, addSpecialTokens: true).map(Int32.init) } })
}

/// Whether `url` is JSONL whose first row has "text" or "input_ids" (the trainer's own row format).
private func isTextOrIDRows(_ url: URL) -> Bool {
    guard url.pathExtension == "jsonl" || url.pathExtension == "ndjson",
          let data = FileManager.default.contents(atPath: url.path),
          let first = (data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]).split(separator: UInt8(ascii: "\n")).first,
          let object = try? JSONSerialization.jsonObject(with: Data(first)) as? [String: Any] else { return false }
    return object["text"] != nil || object["input_ids"] != nil
}

extension JSONEncoder {
    static var pretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}
