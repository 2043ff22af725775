// How a training run is spread over the ranks of a communicator: which rows of each global batch this rank trains,
// and whether the optimizer state is replicated (ZeRO stage 0) or partitioned (stage 1).
import TailorDistributed

/// ZeRO (Rajbhandari et al., 2020) stages Tailor offers.
public enum ZeROStage: Int, Sendable, CaseIterable {
    /// Every rank holds all optimizer state; gradients are all-reduced.
    case none = 0
    /// Rank r holds the AdamW state of its whole tensors only (and, with full fine-tuning and bf16 products, the f32
    /// masters of the tensors only bf16 products read: of the others it keeps the bf16 copies): gradients are
    /// reduce-scattered, each rank steps its tensors, and the updated parameters are all-gathered.
    case optimizerState = 1
}

/// The ranks a trainer runs on (one process alone by default).
public struct DataParallelism {
    public let communicator: any Communicator
    public let zero: ZeROStage

    public init(communicator: any Communicator = SingleProcessCommunicator(), zero: ZeROStage = .none) {
        self.communicator = communicator
        self.zero = zero
    }

    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }
    /// Rank 0 prints, evaluates and writes files.
    public var isPrimary: Bool { communicator.rank == 0 }
    /// Whether the optimizer state is split (ZeRO-1 on more than one rank).
    var shardsOptimizer: Bool { zero == .optimizerState && size > 1 }

    /// This rank's rows of a global step: the step's rows in order, cut into `size` contiguous runs of sizes that
    /// differ by at most one, trained in micro-batches of at most `batchSize` rows. One rank gets the step's
    /// micro-batches unchanged.
    func localMicroBatches(_ step: [[Int]], batchSize: Int) -> [[Int]] {
        guard size > 1 else { return step }
        let rows = step.flatMap { $0 }
        let lo = rows.count * rank / size, hi = rows.count * (rank + 1) / size
        return stride(from: lo, to: hi, by: batchSize).map { Array(rows[$0..<min($0 + batchSize, hi)]) }
    }
}
