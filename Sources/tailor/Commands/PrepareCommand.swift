// `tailor prepare`: read, clean, template, tokenize, split and pack a dataset into .tdata files plus a report.
import ArgumentParser
import Foundation
import TailorChat
import TailorData
import TailorModels

struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Turn a JSONL/JSON/CSV dataset into tokenized train/validation files with loss masks and a report.",
        discussion: """
        Writes OUT/train.tdata, OUT/validation.tdata, OUT/report.json, OUT/report.html and OUT/sample.jsonl.
        Formats: alpaca, sharegpt, messages (OpenAI), prompt-completion, text; auto-detected from the first record.
        --format preference reads TRL's preference rows (prompt, chosen, rejected: strings or lists of messages; no
        prompt: the shared prefix) and writes OUT/train.jsonl and OUT/validation.jsonl as token ids for
        `tailor train --objective dpo|orpo|simpo`, with the same report; pairs longer than --max-length are cut
        keeping the start, and bad pairs (a reply missing, chosen = rejected, a prompt of --max-length tokens or
        more) stop it, or are counted with --skip-bad.
        Cleaning on by default: HTML stripped, empty responses and exact duplicates dropped, responses over 32768
        characters dropped, sensitive content and prompt-injection phrases flagged. Near-duplicate removal (MinHash
        over 3-word shingles, seeded) is off unless --near-dedup THRESHOLD is given (0.8 is a reasonable start).
        """)

    @OptionGroup var model: ModelOption
    @Option(help: "Input data: .jsonl, .json (array) or .csv with a header row.") var data: String
    @Option(help: "Output folder.") var out: String
    @Option(help: "auto | alpaca | sharegpt | messages | prompt-completion | text | preference") var format = "auto"
    @Option(name: .customLong("field"), help: "Field mapping NAME=COLUMN, repeatable (e.g. --field prompt=question --field completion=answer).")
    var fields: [String] = []
    @Option(help: "Chat template: a built-in name (\(ChatTemplate.builtInNames.joined(separator: ", "))) or a .jinja / tokenizer_config.json file. Default: the model's own.")
    var template: String?
    @Option(help: "Maximum tokens per row; longer samples are truncated (keeping the start).") var maxLength = 2048
    @Flag(help: "Pack short samples into max-length rows (segment and position ids keep samples apart).") var pack = false
    @Flag(help: "Train on every token, not only assistant turns / completions.") var trainOnPrompt = false
    @Option(help: "Fraction of samples held out for validation (rounded up).") var validationSplit = 0.05
    @Option(help: "Seed for the split, the spot-check sample and MinHash.") var seed: UInt64 = 42
    @Flag(help: "Drop samples with e-mail addresses, phone numbers, API keys, tokens or private keys (default: flag only).")
    var dropSensitive = false
    @Flag(help: "Drop samples with prompt-injection phrases (default: flag only).") var dropPromptInjection = false
    @Option(help: "Drop near-duplicates whose estimated Jaccard similarity is at least THRESHOLD (0-1]. Off by default.")
    var nearDedup: Double?
    @Flag(help: "Keep exact duplicates.") var keepDuplicates = false
    @Flag(help: "Do not strip HTML tags and entities.") var keepHTML = false
    @Option(help: "Drop responses shorter than this many characters (0: off).") var minResponseChars = 0
    @Option(help: "Drop responses longer than this many characters (0: off).") var maxResponseChars = 32_768
    @Flag(name: [.customLong("skip-bad"), .customLong("skip-malformed")],
          help: "Skip and count malformed records instead of stopping at the first.") var skipMalformed = false
    @Flag(help: "Refuse bytes that are not UTF-8 (by default they are read as U+FFFD and counted in the report).") var strict = false
    @Option(help: "Rows written to sample.jsonl for spot checks.") var sample = 200
    @Flag(help: "Print the report as JSON.") var json = false

    /// The --format value for preference pairs (not a `DataFormat`: pairs are not samples).
    static let preference = "preference"

    func validate() throws {
        guard DataFormat(rawValue: format) != nil || format == Self.preference else {
            throw ValidationError("--format must be one of \((DataFormat.allCases.map(\.rawValue) + [Self.preference]).joined(separator: ", ")), got \(format)")
        }
        if format == Self.preference, let flag = [("--pack", pack), ("--train-on-prompt", trainOnPrompt), ("--field", !fields.isEmpty)].first(where: \.1) {
            throw ValidationError("\(flag.0) does not apply to --format preference")
        }
        guard maxLength > 0 else { throw ValidationError("--max-length must be positive, got \(maxLength)") }
        guard (0..<1).contains(validationSplit) else { throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)") }
        if let nearDedup, !(nearDedup > 0 && nearDedup <= 1) { throw ValidationError("--near-dedup must be in (0, 1], got \(nearDedup)") }
        guard sample >= 0 else { throw ValidationError("--sample must not be negative") }
    }

    func run() throws {
        let dataURL = URL(fileURLWithPath: (data as NSString).expandingTildeInPath)
        guard FileManager.default.fileExists(atPath: dataURL.path) else { throw ValidationError("--data \(data): no such file") }
        let tokenizer = try model.load(eager: false).tokenizer()
        var chosen: ChatTemplate?
        var templateName: String?
        if let template {
            chosen = FileManager.default.fileExists(atPath: template)
                ? try ChatTemplate(contentsOf: URL(fileURLWithPath: template)) : try ChatTemplate.builtIn(named: template)
            templateName = template
        } else if let source = tokenizer.chatTemplate {
            chosen = try ChatTemplate(source: source)
            templateName = "model's own"
        }

        var options = PrepareOptions()
        options.format = DataFormat(rawValue: format) ?? .auto
        options.fields = try FieldMapping(overrides: fields)
        options.skipMalformed = skipMalformed
        options.strictUTF8 = strict
        options.maxLength = maxLength
        options.pack = pack
        options.trainOnPrompt = trainOnPrompt
        options.validationFraction = validationSplit
        options.seed = seed
        options.sampleCount = sample
        options.templateName = templateName
        options.cleaning.stripHTML = !keepHTML
        options.cleaning.dropExactDuplicates = !keepDuplicates
        options.cleaning.minResponseCharacters = minResponseChars
        options.cleaning.maxResponseCharacters = maxResponseChars
        options.cleaning.nearDuplicateThreshold = nearDedup
        options.cleaning.nearDuplicateSeed = seed
        options.cleaning.dropSensitive = dropSensitive
        options.cleaning.dropPromptInjection = dropPromptInjection

        let folder = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
        let report: PrepareReport, files: [String]
        if format == Self.preference {
            report = try PreferencePipeline.write(try PreferencePipeline.prepare(dataURL, tokenizer: tokenizer, template: chosen, options: options), to: folder)
            files = [PreferencePipeline.trainFile, PreferencePipeline.validationFile]
        } else {
            let prepared = try DataPipeline.prepare(dataURL, tokenizer: tokenizer, template: chosen, options: options)
            // When nothing is kept the rule table says why (e.g. tools-not-in-template) before the error.
            if prepared.train.isEmpty { FileHandle.standardError.write(Data((prepared.report.renderText(ansi: false) + "\n").utf8)) }
            report = try DataPipeline.write(prepared, to: folder)
            files = [DataPipeline.trainFile, DataPipeline.validationFile]
        }
        if json {
            try printJSON(report)
        } else {
            print(report.renderText(ansi: isatty(STDOUT_FILENO) != 0))
            print("")
            print("wrote \(folder.path)/{\((files + [DataPipeline.reportJSONFile, DataPipeline.reportHTMLFile, DataPipeline.sampleFile]).joined(separator: ","))}")
        }
    }
}
