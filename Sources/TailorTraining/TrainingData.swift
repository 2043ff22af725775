// Training rows and micro-batches: right padding, -100 labels at padding, seeded order per epoch.
import Foundation
import TailorText
import TailorModels
import TailorTensor

/// One training row: input ids and the labels to learn (-100 where nothing is trained), equal lengths. A packed row
/// also carries the sample each token belongs to and positions restarting at each sample; attention never crosses
/// samples.
public struct TrainingExample: Sendable, Equatable, Codable {
    public var inputIDs: [Int32]
    public var labels: [Int32]
    public var segments: [Int32]?
    public var positions: [Int32]?

    public init(inputIDs: [Int32], labels: [Int32]? = nil, segments: [Int32]? = nil, positions: [Int32]? = nil) {
        self.inputIDs = inputIDs
        self.labels = labels ?? inputIDs
        self.segments = segments
        self.positions = positions
    }

    /// The row cut to `maxLength` tokens.
    public func truncated(to maxLength: Int) -> TrainingExample {
        inputIDs.count <= maxLength ? self
            : TrainingExample(inputIDs: Array(inputIDs.prefix(maxLength)), labels: Array(labels.prefix(maxLength)),
                              segments: segments.map { Array($0.prefix(maxLength)) },
                              positions: positions.map { Array($0.prefix(maxLength)) })
    }
}

public enum TrainingData {
    /// Reads JSONL rows with "input_ids" (and optional "labels"), or "text" passed through `tokenize`.
    /// A malformed line is an error naming the file and line.
    public static func readJSONL(_ url: URL, tokenize: ((String) -> [Int32])?) throws -> [TrainingExample] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.malformedData(file: url.path, line: 0, message: "cannot read the file")
        }
        var rows: [TrainingExample] = []
        let objects: [(line: Int, object: JSONObject)]
        do throws(JSONLinesError) { objects = try JSONLines.objects([UInt8](data), file: url.path) } catch {
            throw TrainingError.malformedData(file: url.path, line: error.line, message: error.reason)
        }
        for (line, object) in objects {
            func fail(_ message: String) -> TrainingError { .malformedData(file: url.path, line: line, message: message) }
            if let ids = object["input_ids"] {
                guard let input = integerIDs(ids) else { throw fail("\"input_ids\" must be a list of integers") }
                var labels: [Int32]? = nil
                if let l = object["labels"] {
                    guard let ll = integerIDs(l), ll.count == input.count else {
                        throw fail("\"labels\" must be a list of integers as long as \"input_ids\"")
                    }
                    labels = ll
                }
                guard input.count >= 2 else { throw fail("a row needs at least 2 tokens") }
                rows.append(TrainingExample(inputIDs: input, labels: labels))
            } else if let text = object["text"] {
                guard let text = text.stringValue else { throw fail("\"text\" must be a string") }
                guard let tokenize else { throw fail("\"text\" rows need a model with a tokenizer") }
                let ids = tokenize(text)
                guard ids.count >= 2 else { throw fail("the text tokenizes to fewer than 2 tokens") }
                rows.append(TrainingExample(inputIDs: ids))
            } else {
                throw fail("expected a \"text\" or an \"input_ids\" field")
            }
        }
        guard !rows.isEmpty else { throw TrainingError.emptyDataset(file: url.path) }
        return rows
    }

    /// Row order for `epoch`: file order, or a permutation seeded by (seed, epoch).
    public static func order(count: Int, epoch: Int, seed: UInt64, shuffle: Bool) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        return rng.permutation(count)
    }

    /// Pads rows to the longest one with `padID`; padding is masked (-100 labels, segment -1). Packed rows keep
    /// their segments and positions.
    public static func collate(_ rows: [TrainingExample], padID: Int32) -> TrainingBatch {
        let t = rows.map(\.inputIDs.count).max() ?? 0
        var tokens: [Int32] = [], labels: [Int32] = [], segments: [Int32] = [], positions: [Int32] = []
        for row in rows {
            let n = row.inputIDs.count, pad = t - n
            tokens += row.inputIDs + [Int32](repeating: padID, count: pad)
            labels += row.labels + [Int32](repeating: -100, count: pad)
            segments += (row.segments ?? [Int32](repeating: 0, count: n)) + [Int32](repeating: -1, count: pad)
            positions += (row.positions ?? (0..<n).map(Int32.init)) + (n..<t).map(Int32.init)
        }
        return TrainingBatch(tokens: tokens, targets: CausalLMLoss.shiftedTargets(labels: labels, batch: rows.count),
                             segments: segments, positions: positions, batch: rows.count)
    }
}
