// `prepare --format preference`: preference rows (TRL's prompt/chosen/rejected, strings or conversations) cleaned,
// templated and tokenized as TRL does, bad pairs refused or counted, long pairs cut keeping the start, split and
// reported like SFT rows. The prepared files hold token ids, which `train --objective dpo` reads as they are.
import Foundation
import TailorChat
import TailorTensor
import TailorTokenizers

/// Prepared preference pairs: each split, the report, and the spot-check sample.
public struct PreparedPreferences: Sendable {
    public var train: [PreferencePair]
    public var validation: [PreferencePair]
    public var report: PrepareReport
    public var spotSample: [JinjaValue]
}

public enum PreferencePipeline {
    /// Token-id JSONL files `write` produces beside the report ({"prompt_ids", "chosen_ids", "rejected_ids"}).
    public static let trainFile = "train.jsonl", validationFile = "validation.jsonl"

    /// Pairs of `records` with the index of the record each came from. A record that cannot be encoded, or whose pair fails
    /// `PreferencePair.problem`, throws naming the file and line; with `skipBad` it is counted by kind instead.
    public static func encode(_ records: [SourceRecord], path: String, encoder: PreferenceEncoder, maxLength: Int,
                              skipBad: Bool) throws -> (pairs: [(index: Int, pair: PreferencePair)], skipped: [PreferenceRowError.Kind: Int]) {
        var pairs: [(index: Int, pair: PreferencePair)] = [], skipped: [PreferenceRowError.Kind: Int] = [:]
        for (index, record) in records.enumerated() {
            do {
                let pair = try encoder.encode(record.value, path: path, line: record.line)
                if let problem = pair.problem(maxLength: maxLength) {
                    guard skipBad else { throw DataError.badPreferencePair(path: path, line: record.line, message: problem.message) }
                    skipped[problem.kind, default: 0] += 1
                    continue
                }
                pairs.append((index, pair))
            } catch let error as DataError where skipBad {
                if case .badPreferencePair = error { throw error }
                skipped[.malformed, default: 0] += 1
            }
        }
        return (pairs, skipped)
    }

    /// Reads, cleans (`options.cleaning`: HTML, empty and long replies, duplicates, sensitive content), encodes,
    /// checks, cuts to `options.maxLength` keeping the start (TRL's default truncation_mode) and splits `url`.
    public static func prepare(_ url: URL, tokenizer: Tokenizer, template: ChatTemplate?, options o: PrepareOptions) throws -> PreparedPreferences {
        guard o.maxLength > 0 else { throw DataError.invalidOption("max length \(o.maxLength) must be positive") }
        guard o.sampleCount >= 0 else { throw DataError.invalidOption("sample size \(o.sampleCount) must not be negative") }
        let path = url.path
        let source = try DataReader.read(url, skipMalformed: o.skipMalformed)
        if o.strictUTF8, let line = source.invalidUTF8Lines.first {
            throw DataError.invalidUTF8(path: path, line: line, lines: source.invalidUTF8Lines.count)
        }
        // Both replies must be there before cleaning looks at them (a missing one is a bad row, not an empty reply).
        // The cleaner's samples are numbered by their record's index (a JSON array may hold several on one line).
        var complete: [SourcedSample] = [], missing = 0
        for (index, record) in source.records.enumerated() {
            if let field = ["chosen", "rejected"].first(where: { (record.value[$0] ?? .none) == .none }) {
                guard o.skipMalformed else { throw DataError.missingField(path: path, line: record.line, field: field, format: "preference") }
                missing += 1
                continue
            }
            complete.append(SourcedSample(line: index, sample: .conversation(Self.messages(of: record.value))))
        }
        let cleaned = try Cleaner(options: o.cleaning).clean(complete)
        let kept = cleaned.kept.map { item in
            let record = source.records[item.line]
            return SourceRecord(line: record.line, value: Self.replacingTexts(of: record.value, with: item.sample.parts.map(\.text)))
        }
        let encoder = PreferenceEncoder(tokenizer: tokenizer, template: template)
        var (encoded, skipped) = try encode(kept, path: path, encoder: encoder, maxLength: o.maxLength, skipBad: o.skipMalformed)
        skipped[.malformed, default: 0] += missing + source.skipped.count
        var truncated = 0
        for i in encoded.indices {
            let room = o.maxLength - encoded[i].pair.promptIDs.count
            if encoded[i].pair.chosenIDs.count > room || encoded[i].pair.rejectedIDs.count > room { truncated += 1 }
            encoded[i].pair.chosenIDs = Array(encoded[i].pair.chosenIDs.prefix(room))
            encoded[i].pair.rejectedIDs = Array(encoded[i].pair.rejectedIDs.prefix(room))
        }
        let pairs = encoded.map(\.pair)
        let split = try DataSplit.split(count: pairs.count, fraction: o.validationFraction, seed: o.seed)
        let train = split.train.map { pairs[$0] }, validation = split.validation.map { pairs[$0] }
        let completion = pairs.reduce(0) { $0 + $1.chosenIDs.count + $1.rejectedIDs.count }
        let prompts = pairs.reduce(0) { $0 + 2 * $1.promptIDs.count }
        let lengths = LengthSummary(pairs.map { $0.promptIDs.count + max($0.chosenIDs.count, $0.rejectedIDs.count) })
        var rng = SplitMix64(seed: o.seed ^ 0x7361_6D70_6C65)
        let spot: [JinjaValue] = rng.permutation(encoded.count).prefix(o.sampleCount).sorted().map { i in
            let (k, pair) = encoded[i]
            guard case let .object(fields) = kept[k].value else { return .none }
            return .object([("line", .int(kept[k].line))] + fields + [
                ("prompt_tokens", .int(pair.promptIDs.count)), ("chosen_tokens", .int(pair.chosenIDs.count)),
                ("rejected_tokens", .int(pair.rejectedIDs.count)), ("flags", .array(cleaned.flags[k].map { .string($0) })),
            ])
        }
        let rules = [RuleCount(rule: "invalid-utf8", action: "modified", count: source.invalidUTF8Lines.count, enabled: true)] + cleaned.rules
            + PreferenceRowError.Kind.allCases.map { RuleCount(rule: $0.rawValue, action: "dropped", count: skipped[$0] ?? 0, enabled: true) }
        let report = PrepareReport(
            source: path, container: source.container.rawValue, format: "preference", template: o.templateName,
            rowsRead: source.records.count + source.skipped.count, malformedSkipped: skipped[.malformed] ?? 0, rowsKept: pairs.count,
            rowsDropped: source.records.count + source.skipped.count - pairs.count, rules: rules, noTrainedTokens: 0,
            maxLength: o.maxLength, truncated: truncated, packed: false, trainRows: train.count, validationRows: validation.count,
            trainSamples: train.count, validationSamples: validation.count, trainedTokens: completion, maskedTokens: prompts,
            lengthMin: lengths.min, lengthMean: lengths.mean, lengthMedian: lengths.median, lengthP95: lengths.p95,
            lengthMax: lengths.max, lengthHistogram: PrepareReport.histogram(lengths.sorted),
            examples: encoded.prefix(o.exampleCount).map { Self.render($0.pair, line: kept[$0.index].line, tokenizer: tokenizer) },
            sampleFile: nil, sampleCount: spot.count)
        return PreparedPreferences(train: train, validation: validation, report: report, spotSample: spot)
    }

    /// Writes train.jsonl, validation.jsonl (token ids), report.json, report.html and sample.jsonl into `directory`.
    @discardableResult
    public static func write(_ prepared: PreparedPreferences, to directory: URL) throws -> PrepareReport {
        guard !prepared.train.isEmpty else {
            throw DataError.noRowsKept(path: prepared.report.source, rowsRead: prepared.report.rowsRead)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, pairs) in [(trainFile, prepared.train), (validationFile, prepared.validation)] {
                try writeAtomically(try DataPipeline.jsonLines(pairs, encoder: encoder), to: directory.appendingPathComponent(name))
            }
        } catch let error as DataError {
            throw error
        } catch {
            throw DataError.writeFailed(path: directory.path, message: "\(error)")
        }
        return try DataPipeline.writeReport(prepared.report, spotSample: prepared.spotSample, to: directory)
    }

    /// The record's texts as one conversation for the cleaner, in the order `replacingTexts` reads them back: the
    /// prompt (a string as a user turn), then chosen and rejected (a string as an assistant turn).
    static func messages(of record: JinjaValue) -> [ChatMessage] {
        ["prompt", "chosen", "rejected"].flatMap { key -> [ChatMessage] in
            switch record[key] {
            case let .string(text)?: return [ChatMessage(role: key == "prompt" ? "user" : "assistant", content: text)]
            case let .array(items)?: return items.map { (try? ChatMessage($0)) ?? ChatMessage(role: "", content: "") }
            default: return []
            }
        }
    }

    /// `record` with its texts (in `messages(of:)` order) replaced by `texts`.
    static func replacingTexts(of record: JinjaValue, with texts: [String]) -> JinjaValue {
        guard case let .object(fields) = record else { return record }
        var next = texts.makeIterator()
        return .object(fields.map { key, value in
            guard ["prompt", "chosen", "rejected"].contains(key) else { return (key, value) }
            switch value {
            case .string: return (key, next.next().map(JinjaValue.string) ?? value)
            case let .array(items):
                return (key, .array(items.map { item in
                    let text = next.next()
                    guard case let .object(m) = item, let text else { return item }
                    return .object(m.map { $0.0 == "content" ? ($0.0, .string(text)) : $0 })
                }))
            default: return (key, value)
            }
        })
    }

    /// The report's example: the prompt, then the chosen and the rejected completion (completion tokens marked trained).
    static func render(_ pair: PreferencePair, line: Int, tokenizer: Tokenizer) -> RenderedExample {
        func text(_ ids: [Int32]) -> String { tokenizer.decode(ids.map(Int.init)) }
        return RenderedExample(line: line, tokens: pair.promptIDs.count + max(pair.chosenIDs.count, pair.rejectedIDs.count),
                               trainedTokens: pair.chosenIDs.count + pair.rejectedIDs.count,
                               spans: [ExampleSpan(text: text(pair.promptIDs), trained: false), ExampleSpan(text: text(pair.chosenIDs), trained: true),
                                       ExampleSpan(text: "\n  rejected: ", trained: false), ExampleSpan(text: text(pair.rejectedIDs), trained: true)])
    }
}
