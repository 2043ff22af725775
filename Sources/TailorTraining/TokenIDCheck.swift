// Token ids and labels checked against the model's vocabulary before training: the embedding and loss kernels
// index with them, and treat an out-of-range id as a programmer error (a trap), not a data error.
import TailorText

extension TrainingData {
    /// Throws `TrainingError.malformedData` naming the row (1-based), the position and the id when an input id is
    /// outside `0..<vocabularySize` or a label is neither -100 (ignored) nor inside it.
    public static func checkTokenIDs(_ rows: [TrainingExample], vocabularySize: Int, source: String) throws {
        for (r, row) in rows.enumerated() {
            func fail(_ message: String) -> TrainingError { .malformedData(file: source, line: r + 1, message: message) }
            if let p = row.inputIDs.firstIndex(where: { $0 < 0 || Int($0) >= vocabularySize }) {
                throw fail("token id \(row.inputIDs[p]) at position \(p) is outside the model's vocabulary (0..<\(vocabularySize))")
            }
            if let p = row.labels.firstIndex(where: { $0 != -100 && ($0 < 0 || Int($0) >= vocabularySize) }) {
                throw fail("label \(row.labels[p]) at position \(p) is outside the model's vocabulary (0..<\(vocabularySize)); -100 marks an ignored position")
            }
            guard row.labels.count == row.inputIDs.count else {
                throw fail("\(row.labels.count) labels for \(row.inputIDs.count) input ids")
            }
        }
    }

    /// A JSON list of token ids as Int32s; nil when an item is not an integer in Int32's range (2.5, "3", 1e10).
    static func integerIDs(_ value: JSONValue?) -> [Int32]? {
        guard let items = value?.arrayValue else { return nil }
        var ids: [Int32] = []
        ids.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .int(let i): guard let id = Int32(exactly: i) else { return nil }; ids.append(id)
            case .double(let d): guard let id = Int32(exactly: d) else { return nil }; ids.append(id)
            default: return nil
            }
        }
        return ids
    }
}
