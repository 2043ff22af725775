// PreparedRow: one training row as stored in a .tdata file and handed to the trainer.

/// A training row: token ids, labels (-100 = not trained) and, for packed rows, per-token segment and position.
///
/// In a packed row `segments[k]` is the index (0, 1, 2, ...) of the sample token k came from; attention must not
/// cross segments. `positions[k]` restarts at 0 at each segment start, so rotary embeddings see each sample as if
/// alone. The label at each segment start is -100, so a segment's last token never learns to predict the next
/// segment's first token (transformers' `DataCollatorWithFlattening` does the same).
public struct PreparedRow: Sendable, Equatable, Codable {
    /// The label value the loss ignores (PyTorch's ignore_index).
    public static let ignoreIndex: Int32 = -100

    public var inputIDs: [Int32]
    public var labels: [Int32]
    public var segments: [Int32]?
    public var positions: [Int32]?

    public init(inputIDs: [Int32], labels: [Int32], segments: [Int32]? = nil, positions: [Int32]? = nil) {
        self.inputIDs = inputIDs
        self.labels = labels
        self.segments = segments
        self.positions = positions
    }

    public var count: Int { inputIDs.count }
    public var trainedCount: Int { labels.filter { $0 != Self.ignoreIndex }.count }
}
