// Preference pairs as token ids and their micro-batches: [chosen rows…, rejected rows…] right-padded, every real token
// a target, and a mask of the targets that belong to the completion (TRL's completion_mask, shifted).
import Foundation
import TailorText
import TailorModels
import TailorTensor

/// One preference pair as token ids: the prompt, and the chosen and rejected completions (EOS included).
public struct PreferencePair: Sendable, Equatable, Codable {
    public var promptIDs: [Int32]
    public var chosenIDs: [Int32]
    public var rejectedIDs: [Int32]

    public init(promptIDs: [Int32], chosenIDs: [Int32], rejectedIDs: [Int32]) {
        self.promptIDs = promptIDs
        self.chosenIDs = chosenIDs
        self.rejectedIDs = rejectedIDs
    }

    enum CodingKeys: String, CodingKey {
        case promptIDs = "prompt_ids", chosenIDs = "chosen_ids", rejectedIDs = "rejected_ids"
    }
}

/// How a sequence longer than `max_length` is cut (TRL's `truncation_mode`).
public enum TruncationMode: String, Codable, Sendable, CaseIterable {
    case keepStart = "keep_start", keepEnd = "keep_end"
}

/// A micro-batch of pairs: `batch` holds 2·P rows, chosen first.
public struct PreferenceBatch: Sendable {
    public var batch: TrainingBatch
    /// (2P·T) whether target t is a completion token.
    public var completion: [Bool]
    public var pairCount: Int

    /// Collates `pairs`, each sequence cut to `maxLength` as TRL's DataCollatorForPreference does.
    public init(_ pairs: [PreferencePair], maxLength: Int, truncation: TruncationMode, padID: Int32) {
        var rows: [TrainingExample] = [], masks: [[Bool]] = []
        for side in 0..<2 {
            for p in pairs {
                let completion = side == 0 ? p.chosenIDs : p.rejectedIDs
                var ids = p.promptIDs + completion
                var mask = [Bool](repeating: false, count: p.promptIDs.count) + [Bool](repeating: true, count: completion.count)
                if ids.count > maxLength {
                    ids = truncation == .keepStart ? Array(ids.prefix(maxLength)) : Array(ids.suffix(maxLength))
                    mask = truncation == .keepStart ? Array(mask.prefix(maxLength)) : Array(mask.suffix(maxLength))
                }
                rows.append(TrainingExample(inputIDs: ids))
                masks.append(mask)
            }
        }
        batch = TrainingData.collate(rows, padID: padID)
        let t = batch.tokens.count / max(batch.batch, 1)
        completion = [Bool](repeating: false, count: batch.tokens.count)
        for (r, mask) in masks.enumerated() {
            for i in 0..<max(0, mask.count - 1) where mask[i + 1] { completion[r * t + i] = true }
        }
        pairCount = pairs.count
    }

    /// Summed completion log-probs (and counts) of every row under `model`, without gradients.
    public func logProbs(under model: LlamaModel, backend: any Backend) -> (sums: [Double], counts: [Int]) {
        let logits = model.forward(tokens: batch.tokens, batch: batch.batch, positions: batch.positions,
                                   segments: batch.segments, backend: backend)
        return completionSums(tokenLosses: backend.crossEntropy(logits: logits, targets: batch.targets).floats())
    }

    /// Sums of the completion targets' log-probs (−NLL) of each row, and their counts.
    public func completionSums(tokenLosses: [Float]) -> (sums: [Double], counts: [Int]) {
        let t = batch.tokens.count / max(batch.batch, 1)
        var sums = [Double](repeating: 0, count: batch.batch), counts = [Int](repeating: 0, count: batch.batch)
        for i in 0..<min(tokenLosses.count, completion.count) where completion[i] {
            sums[i / t] -= Double(tokenLosses[i])
            counts[i / t] += 1
        }
        return (sums, counts)
    }
}

public enum PreferenceData {
    /// Reads JSONL rows with "prompt_ids", "chosen_ids" and "rejected_ids" (token ids, as TRL tokenizes pairs).
    /// A malformed row is an error naming the file and line; `skipBad` counts bad rows instead.
    public static func readTokenized(_ url: URL, vocabularySize: Int, maxLength: Int, skipBad: Bool = false) throws -> (pairs: [PreferencePair], skipped: Int) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.malformedData(file: url.path, line: 0, message: "cannot read the file")
        }
        var pairs: [PreferencePair] = [], skipped = 0
        for line in JSONLines.lines([UInt8](data)) {
            do {
                guard let object = (try? line.value())?.objectValue else { throw PreferenceRowError("not a JSON object") }
                func ids(_ key: String) throws -> [Int32] {
                    guard let value = object[key] else { throw PreferenceRowError("missing \"\(key)\"") }
                    guard let list = TrainingData.integerIDs(value), list.allSatisfy({ $0 >= 0 && Int($0) < vocabularySize }) else {
                        throw PreferenceRowError("\"\(key)\" must be a list of token ids below \(vocabularySize)")
                    }
                    return list
                }
                try pairs.append(validated(PreferencePair(promptIDs: ids("prompt_ids"), chosenIDs: ids("chosen_ids"),
                                                          rejectedIDs: ids("rejected_ids")), maxLength: maxLength))
            } catch let error as PreferenceRowError {
                if skipBad { skipped += 1; continue }
                throw TrainingError.malformedData(file: url.path, line: line.number, message: error.message)
            }
        }
        guard !pairs.isEmpty else { throw TrainingError.emptyDataset(file: url.path) }
        return (pairs, skipped)
    }

    /// The checks every pair passes: both completions present and different, and the prompt shorter than
    /// `maxLength` (TRL drops such rows: truncation would leave no completion token).
    public static func validated(_ pair: PreferencePair, maxLength: Int) throws -> PreferencePair {
        guard pair.promptIDs.count < maxLength else {
            throw PreferenceRowError("the prompt has \(pair.promptIDs.count) tokens, not fewer than max_length \(maxLength)")
        }
        guard !pair.chosenIDs.isEmpty else { throw PreferenceRowError("the chosen completion is empty") }
        guard !pair.rejectedIDs.isEmpty else { throw PreferenceRowError("the rejected completion is empty") }
        guard pair.chosenIDs != pair.rejectedIDs else { throw PreferenceRowError("chosen and rejected are identical") }
        return pair
    }
}

/// Why one preference row is unusable (the reader adds file and line).
public struct PreferenceRowError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
