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
        discussion: hyperparameterHelp)

    /// The hyperparameters' part of `--help`, from their declarations (wrapped here: the parser wraps without indent).
    static var hyperparameterHelp: String {
        "Every hyperparameter is a flag (--lora-r 16 or --lora-r=16) and a key of a YAML recipe (--config; lora_r: 16); flags override the recipe.\n\nHYPERPARAMETERS:\n"
            + TrainingConfiguration.hyperparameters.map { parameter in
                let defaultText = parameter.defaultText == "none" ? "" : " (default: \(parameter.defaultText))"
                return (["  \(parameter.flag) <\(parameter.accepts)>"] + wrapped(parameter.help + defaultText, width: 70).map { "        " + $0 })
                    .joined(separator: "\n")
            }.joined(separator: "\n")
    }

    /// `text` in lines of at most `width` characters, broken at spaces.
    static func wrapped(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        return lines + (line.isEmpty ? [] : [line])
    }

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

    @Flag(help: "Preference tuning: skip bad preference rows (counted) instead of stopping at the first one.") var skipBad = false
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Hyperparameters as --key value (listed above).", valueName: "hyperparameters"))
    var hyperparameterFlags: [String] = []

    /// defaults < recipe < flags, as one validated configuration.
    func resolvedConfiguration() throws -> TrainingConfiguration {
        try Self.resolvedConfiguration(recipe: config, flags: hyperparameterFlags)
    }

    /// defaults < the YAML `recipe` < hyperparameter `flags` (`--key value`), as one validated configuration whose
    /// errors name the recipe line or the flag.
    static func resolvedConfiguration(recipe: String?, flags: [String]) throws -> TrainingConfiguration {
        var merged: [String: Any] = [:]
        var origins: [String: String] = [:]
        if let recipe {
            guard let text = try? String(contentsOfFile: recipe, encoding: .utf8) else {
                throw ValidationError("--config \(recipe): cannot read the file")
            }
            let (values, lines) = try RecipeFile.load(text, file: recipe)
            origins = lines
            let known = Set(TrainingConfiguration.keys)
            if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
                throw TrainingError.unknownKey(unknown, file: recipe, known: Array(known))
            }
            merged = values
        }
        let given = try TrainingConfiguration.flagValues(flags)
        merged.merge(given.values) { _, flag in flag }
        origins.merge(given.origins) { _, flag in flag }
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
                                      maxLength: configuration.maxLength, skipBad: skipBad) : []
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

/// `TrainingRows.read`, saying when the file was prepared on the fly.
func readTrainingRows(_ path: String, tokenizer: Tokenizer?, maxLength: Int) throws -> [TrainingExample] {
    let read = try TrainingRows.read(path, tokenizer: tokenizer, maxLength: maxLength)
    if let report = read.preparedOnTheFly {
        print("prepared \(path) on the fly: \(report.rowsKept) of \(report.rowsRead) rows kept, \(report.trainedTokens) trained of \(report.trainedTokens + report.maskedTokens) tokens")
    }
    return read.rows
}

extension JSONEncoder {
    static var pretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}
