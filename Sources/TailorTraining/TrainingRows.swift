// Reading a run's data whatever form the user brings: a prepared dataset, the trainer's own JSONL rows, any dataset
// `tailor prepare` reads (prepared on the fly with the model's chat template), or preference pairs.
import Foundation
import TailorChat
import TailorData
import TailorText
import TailorTokenizers

/// Training rows and preference pairs read from a user's file.
public enum TrainingRows {
    /// Rows for training and the report of preparing them when the file was prepared on the fly.
    public struct Read: Sendable {
        public var rows: [TrainingExample]
        /// Set when the file was a raw dataset prepared here with `tailor prepare`'s defaults.
        public var preparedOnTheFly: PrepareReport?
    }

    /// Rows from a prepared dataset (`tailor prepare`, .tdata); JSONL rows with "text" or "input_ids"; or any other
    /// dataset `tailor prepare` reads (chat messages, alpaca, sharegpt, prompt/completion, CSV, JSON), prepared with
    /// prepare's defaults, the model's chat template and `maxLength`.
    /// - Throws: a named error for an unreadable file or row, or a dataset in which no row has a token to train on.
    public static func read(_ path: String, tokenizer: Tokenizer?, maxLength: Int) throws -> Read {
        let url = URL(fileURLWithPath: path)
        if url.pathExtension == "tdata" {
            return Read(rows: try PreparedDataset.read(url).map {
                TrainingExample(inputIDs: $0.inputIDs, labels: $0.labels, segments: $0.segments, positions: $0.positions)
            })
        }
        if let tokenizer, !isTextOrIDRows(url) {
            var options = PrepareOptions()
            options.validationFraction = 0
            options.maxLength = maxLength
            options.sampleCount = 0
            let template = try tokenizer.chatTemplate.map { try ChatTemplate(source: $0) }
            let prepared = try DataPipeline.prepare(url, tokenizer: tokenizer, template: template, options: options)
            guard !prepared.train.isEmpty, prepared.report.trainedTokens > 0 else {
                throw TrainingError.malformedData(
                    file: path, line: 0,
                    message: "no row has a token to train on (every row was dropped or fully masked); run `tailor prepare` to see why")
            }
            return Read(rows: prepared.train.map {
                TrainingExample(inputIDs: $0.inputIDs, labels: $0.labels, segments: $0.segments, positions: $0.positions)
            }, preparedOnTheFly: prepared.report)
        }
        return Read(rows: try TrainingData.readJSONL(url, tokenize: tokenizer.map { t in { t.encode($0, addSpecialTokens: true).map(Int32.init) } }))
    }

    /// Whether `url` is JSONL whose first row has "text" or "input_ids" (the trainer's own row format).
    static func isTextOrIDRows(_ url: URL) -> Bool {
        guard url.pathExtension == "jsonl" || url.pathExtension == "ndjson", let object = firstObject(url) else { return false }
        return object["text"] != nil || object["input_ids"] != nil
    }

    /// The first non-blank line of a JSONL file as an object, or nil.
    static func firstObject(_ url: URL) -> JSONObject? {
        guard let data = FileManager.default.contents(atPath: url.path),
              let first = JSONLines.lines(Array(data)).first else { return nil }
        return try? first.value().objectValue
    }

    /// Preference pairs and the number of bad rows skipped.
    public struct Pairs: Sendable {
        public var pairs: [PreferencePair]
        public var skipped: Int
    }

    /// Preference pairs from JSONL: token ids ("prompt_ids", "chosen_ids", "rejected_ids"), or "prompt"/"chosen"/
    /// "rejected" as strings or lists of messages (TRL's formats; an implicit prompt is the shared prefix). A bad row
    /// is an error naming the file and line, or is counted and skipped with `skipBad`.
    public static func readPairs(_ path: String, tokenizer: Tokenizer?, vocabularySize: Int, maxLength: Int,
                                 skipBad: Bool) throws -> Pairs {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw TrainingError.malformedData(file: path, line: 0, message: "cannot read the file")
        }
        if firstObject(url)?["prompt_ids"] != nil {
            let (pairs, skipped) = try PreferenceData.readTokenized(url, vocabularySize: vocabularySize, maxLength: maxLength, skipBad: skipBad)
            return Pairs(pairs: pairs, skipped: skipped)
        }
        guard let tokenizer else {
            throw TrainingError.malformedData(file: path, line: 0, message: "text preference rows need a model with a tokenizer")
        }
        let encoder = PreferenceEncoder(tokenizer: tokenizer, template: try tokenizer.chatTemplate.map { try ChatTemplate(source: $0) })
        let source = try DataReader.read(url, skipMalformed: skipBad)
        let (encoded, bad) = try PreferencePipeline.encode(source.records, path: path, encoder: encoder, maxLength: maxLength, skipBad: skipBad)
        let pairs = encoded.map(\.pair)
        guard !pairs.isEmpty else { throw TrainingError.emptyDataset(file: path) }
        return Pairs(pairs: pairs, skipped: bad.values.reduce(source.skipped.count, +))
    }
}
