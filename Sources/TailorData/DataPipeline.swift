// The `prepare` pipeline: read → convert → clean → encode → truncate → split → pack → report, and writing its
// outputs.
import TailorTensor
import Foundation
import TailorChat
import TailorTokenizers

/// Options for `DataPipeline.prepare`, with the CLI's defaults.
public struct PrepareOptions: Sendable {
    public var format: DataFormat = .auto
    public var fields = FieldMapping()
    /// Skip (and count) malformed records and records with missing or invalid fields instead of failing.
    public var skipMalformed = false
    /// Refuse input with bytes that are not UTF-8 instead of reading them as U+FFFD and counting them.
    public var strictUTF8 = false
    public var cleaning = CleaningOptions()
    public var maxLength = 2048
    public var pack = false
    public var trainOnPrompt = false
    public var validationFraction = 0.05
    public var seed: UInt64 = 42
    /// Rows written to sample.jsonl for manual spot checks.
    public var sampleCount = 200
    /// Rendered examples in the report.
    public var exampleCount = 3
    /// Name shown in the report for the chat template.
    public var templateName: String?

    public init() {}
}

/// The result of `prepare`: rows for each split, the report, and the spot-check sample (JSON objects).
public struct PreparedData: Sendable {
    public var train: [PreparedRow]
    public var validation: [PreparedRow]
    public var report: PrepareReport
    public var spotSample: [JinjaValue]
}

public enum DataPipeline {
    /// Reads and prepares `url`. See `PrepareOptions` for what each step does.
    public static func prepare(_ url: URL, tokenizer: Tokenizer, template: ChatTemplate?, options: PrepareOptions) throws -> PreparedData {
        let source = try DataReader.read(url, skipMalformed: options.skipMalformed)
        return try prepare(source, path: url.path, tokenizer: tokenizer, template: template, options: options)
    }

    /// Prepares records already read.
    public static func prepare(_ source: SourceRecords, path: String, tokenizer: Tokenizer, template: ChatTemplate?,
                               options o: PrepareOptions) throws -> PreparedData
    {
        guard o.maxLength > 0 else { throw DataError.invalidOption("max length \(o.maxLength) must be positive") }
        guard o.sampleCount >= 0 else { throw DataError.invalidOption("sample size \(o.sampleCount) must not be negative") }
        if o.strictUTF8, let line = source.invalidUTF8Lines.first {
            throw DataError.invalidUTF8(path: path, line: line, lines: source.invalidUTF8Lines.count)
        }
        let format = try RecordConverter.resolve(o.format, records: source.records, fields: o.fields, path: path)
        let converter = RecordConverter(format: format, fields: o.fields, path: path)
        var malformed = source.skipped.count
        var samples: [SourcedSample] = []
        for record in source.records {
            do {
                samples.append(SourcedSample(line: record.line, sample: try converter.convert(record)))
            } catch let error as DataError where o.skipMalformed {
                _ = error
                malformed += 1
            }
        }
        let cleaned = try Cleaner(options: o.cleaning).clean(samples)

        let encoder = SampleEncoder(tokenizer: tokenizer, template: template, trainOnPrompt: o.trainOnPrompt)
        var rows: [PreparedRow] = [], lines: [Int] = [], kept: [(SourcedSample, [String])] = []
        var examples: [RenderedExample] = []
        var truncated = 0, noTrained = 0, toolsNotRendered = 0
        for (item, flags) in zip(cleaned.kept, cleaned.flags) {
            if case let .conversation(messages, tools) = item.sample, let template,
               !template.renders(tools: tools != nil, toolCalls: messages.contains { $0.toolCalls != nil })
            {
                toolsNotRendered += 1; continue
            }
            var encoded = try encoder.encode(item.sample, path: path, line: item.line)
            if encoded.inputIDs.count > o.maxLength {
                truncated += 1
                encoded.inputIDs = Array(encoded.inputIDs.prefix(o.maxLength))
                encoded.labels = Array(encoded.labels.prefix(o.maxLength))
                encoded.tokenRanges = Array(encoded.tokenRanges.prefix(o.maxLength))
            }
            guard encoded.trainedCount > 0 else { noTrained += 1; continue }
            if examples.count < o.exampleCount { examples.append(PrepareReport.render(encoded, line: item.line)) }
            rows.append(PreparedRow(inputIDs: encoded.inputIDs, labels: encoded.labels))
            lines.append(item.line)
            kept.append((item, flags))
        }

        var rng = SplitMix64(seed: o.seed ^ 0x7361_6D70_6C65)
        let picked = rng.permutation(kept.count).prefix(o.sampleCount).sorted()
        let spot: [JinjaValue] = picked.map { i in
            let (item, flags) = kept[i]
            guard case let .object(pairs) = item.sample.jsonValue else { return item.sample.jsonValue }
            return .object([("line", .int(item.line))] + pairs + [
                ("tokens", .int(rows[i].count)), ("trained_tokens", .int(rows[i].trainedCount)),
                ("flags", .array(flags.map { .string($0) })),
            ])
        }

        let split = try DataSplit.split(count: rows.count, fraction: o.validationFraction, seed: o.seed)
        var train = split.train.map { rows[$0] }
        var validation = split.validation.map { rows[$0] }
        if o.pack {
            train = Packing.pack(train, maxLength: o.maxLength)
            validation = Packing.pack(validation, maxLength: o.maxLength)
        }
        let all = train + validation
        let trained = all.reduce(0) { $0 + $1.trainedCount }
        let tokens = all.reduce(0) { $0 + $1.count }
        let lengths = LengthSummary(rows.map(\.count))
        let report = PrepareReport(
            source: path, container: source.container.rawValue, format: format.rawValue, template: o.templateName,
            rowsRead: source.records.count + source.skipped.count, malformedSkipped: malformed, rowsKept: rows.count,
            rowsDropped: source.records.count + source.skipped.count - rows.count,
            rules: [RuleCount(rule: "invalid-utf8", action: "modified", count: source.invalidUTF8Lines.count, enabled: true)] + cleaned.rules
                + [RuleCount(rule: "tools-not-in-template", action: "dropped", count: toolsNotRendered, enabled: false)],
            noTrainedTokens: noTrained, maxLength: o.maxLength, truncated: truncated, packed: o.pack,
            trainRows: train.count, validationRows: validation.count, trainSamples: split.train.count,
            validationSamples: split.validation.count, trainedTokens: trained, maskedTokens: tokens - trained,
            lengthMin: lengths.min, lengthMean: lengths.mean, lengthMedian: lengths.median, lengthP95: lengths.p95,
            lengthMax: lengths.max, lengthHistogram: PrepareReport.histogram(lengths.sorted), examples: examples, sampleFile: nil, sampleCount: spot.count)
        return PreparedData(train: train, validation: validation, report: report, spotSample: spot)
    }

    /// File names `write` produces inside the output folder.
    public static let trainFile = "train.tdata", validationFile = "validation.tdata", reportJSONFile = "report.json",
        reportHTMLFile = "report.html", sampleFile = "sample.jsonl"

    /// Writes train.tdata, validation.tdata, report.json, report.html and sample.jsonl into `directory` (created
    /// if needed), each atomically. Returns the report with `sampleFile` filled in.
    @discardableResult
    public static func write(_ prepared: PreparedData, to directory: URL) throws -> PrepareReport {
        guard !prepared.train.isEmpty else {
            throw DataError.noRowsKept(path: prepared.report.source, rowsRead: prepared.report.rowsRead)
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.writeFailed(path: directory.path, message: "\(error)")
        }
        try PreparedDataset.write(prepared.train, to: directory.appendingPathComponent(trainFile))
        try PreparedDataset.write(prepared.validation, to: directory.appendingPathComponent(validationFile))
        return try writeReport(prepared.report, spotSample: prepared.spotSample, to: directory)
    }

    /// Writes report.json, report.html and sample.jsonl into the existing `directory`, each atomically. Returns the
    /// report with `sampleFile` filled in.
    static func writeReport(_ report: PrepareReport, spotSample: [JinjaValue], to directory: URL) throws -> PrepareReport {
        var report = report
        report.sampleFile = directory.appendingPathComponent(sampleFile).path
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let lineEncoder = JSONEncoder()
        lineEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            try writeAtomically(try encoder.encode(report), to: directory.appendingPathComponent(reportJSONFile))
            try writeAtomically(try jsonLines(spotSample, encoder: lineEncoder), to: directory.appendingPathComponent(sampleFile))
        } catch let error as DataError {
            throw error
        } catch {
            throw DataError.writeFailed(path: directory.path, message: "\(error)")
        }
        try writeAtomically(Data(report.renderHTML().utf8), to: directory.appendingPathComponent(reportHTMLFile))
        return report
    }

    /// One JSON value per line.
    static func jsonLines<T: Encodable>(_ values: [T], encoder: JSONEncoder) throws -> Data {
        var lines = Data()
        for value in values {
            lines.append(try encoder.encode(value))
            lines.append(0x0A)
        }
        return lines
    }
}
