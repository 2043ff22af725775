// Preference pairs as token ids and their micro-batches: [chosen rows…, rejected rows…] right-padded, every real token
// a target, and a mask of the targets that belong to the completion (TRL's completion_mask, shifted).
import Foundation
import TailorData
import TailorText
import TailorModels
import TailorTensor

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

    /// Collates `pairs`, each sequence cut to `maxLength` as TRL's DataCollatorForPreference does. With
    /// `trainsPrompt` false (all but ORPO) only completion tokens are targets, so prompts skip the output head.
    public init(_ pairs: [PreferencePair], maxLength: Int, truncation: TruncationMode, padID: Int32, trainsPrompt: Bool = false) {
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
        if !trainsPrompt { for i in completion.indices where !completion[i] { batch.targets[i] = -100 } }
        pairCount = pairs.count
    }

    /// Summed completion log-probs (and counts) of every row under `model`, without gradients (and without saving
    /// activations); only completion positions go through the output head.
    public func logProbs(under model: LlamaModel, backend: any Backend) -> (sums: [Double], counts: [Int]) {
        let hidden = model.finalHidden(tokens: batch.tokens, batch: batch.batch, positions: batch.positions,
                                       segments: batch.segments, backend: backend)
        let rows = completion.indices.filter { completion[$0] }
        guard !rows.isEmpty else { return completionSums(tokenLosses: []) }
        let losses = backend.crossEntropy(logits: model.head(hidden.gatheringRows(rows), backend: backend),
                                          targets: rows.map { batch.targets[$0] }).floats()
        var all = [Float](repeating: 0, count: completion.count)
        for (i, r) in rows.enumerated() { all[r] = losses[i] }
        return completionSums(tokenLosses: all)
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
                guard let object = (try? line.value())?.objectValue else { throw PreferenceRowError(.malformed, "not a JSON object") }
                func ids(_ key: String) throws -> [Int32] {
                    guard let value = object[key] else { throw PreferenceRowError(.malformed, "missing \"\(key)\"") }
                    guard let list = TrainingData.integerIDs(value), list.allSatisfy({ $0 >= 0 && Int($0) < vocabularySize }) else {
                        throw PreferenceRowError(.malformed, "\"\(key)\" must be a list of token ids below \(vocabularySize)")
                    }
                    return list
                }
                try pairs.append(PreferencePair(promptIDs: ids("prompt_ids"), chosenIDs: ids("chosen_ids"),
                                                rejectedIDs: ids("rejected_ids")).validated(maxLength: maxLength))
            } catch let error as PreferenceRowError {
                if skipBad { skipped += 1; continue }
                throw TrainingError.malformedData(file: url.path, line: line.number, message: error.message)
            }
        }
        guard !pairs.isEmpty else { throw TrainingError.emptyDataset(file: url.path) }
        return (pairs, skipped)
    }
}
