// The seam between training and the processes it runs on: collectives on f32 buffers (and a few f64 scalars, and
// an all-gather of raw bytes), one implementation per transport. MPI has no standard bf16 type, so gradients are reduced in f32.
import Foundation

/// The f64 reductions `allReduce(_:_:)` offers.
public enum ReduceOperation: Int32, Sendable {
    case sum = 0, min = 1, max = 2
}

/// A group of `size` processes that train one model together; this one is `rank` (0-based).
///
/// Every collective must be called by every rank in the same order with matching sizes. Buffers are plain `[Float]`
/// in rank order: `counts[r]` elements belong to rank `r`, rank 0's first.
public protocol Communicator: AnyObject {
    /// This process, 0 ..< size.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Bytes handed to collectives and seconds spent inside them, since the start.
    var statistics: CommunicationStatistics { get }

    /// Replaces `values` on every rank by their elementwise sum over all ranks.
    func allReduceSum(_ values: inout [Float]) throws(CommunicationError)
    /// Replaces `values` on every rank by their elementwise reduction over all ranks.
    func allReduce(_ values: inout [Double], _ operation: ReduceOperation) throws(CommunicationError)
    /// Sums `values` (the same length on every rank, `counts.reduce(0, +)`) over all ranks and returns this rank's
    /// slice of the sum: elements `counts[0..<rank].sum ..< + counts[rank]`.
    func reduceScatterSum(_ values: [Float], counts: [Int]) throws(CommunicationError) -> [Float]
    /// Concatenates every rank's `shard` (rank `r` gives `counts[r]` elements) on every rank.
    func allGather(_ shard: [Float], counts: [Int]) throws(CommunicationError) -> [Float]
    /// Concatenates every rank's `shard` of raw bytes (rank `r` gives `counts[r]` bytes) on every rank: values moved,
    /// not reduced, such as bf16 weights, which MPI has no type for.
    func allGather(bytes shard: [UInt8], counts: [Int]) throws(CommunicationError) -> [UInt8]
    /// Concatenates every rank's `shard` on `root` only; other ranks get an empty array.
    func gather(_ shard: [Float], counts: [Int], root: Int) throws(CommunicationError) -> [Float]
    /// Copies `root`'s `values` to every rank (the same length everywhere).
    func broadcast(_ values: inout [Float], root: Int) throws(CommunicationError)
    /// Starts summing `values` over all ranks and returns at once, so this rank can compute while the sum runs; the
    /// result comes from `wait(for:)`. Every rank must start the same sums in the same order.
    func startAllReduceSum(_ values: [Float]) throws(CommunicationError) -> PendingSum
    /// Starts `reduceScatterSum(values, counts:)` and returns at once; `wait(for:)` gives this rank's slice of the
    /// sum. Every rank must start it (a rank whose count is 0 too), in the same order as the other started sums.
    func startReduceScatterSum(_ values: [Float], counts: [Int]) throws(CommunicationError) -> PendingSum
    /// Lets started sums move on (MPI advances non-blocking collectives only inside its own calls).
    func progress(_ pending: [PendingSum]) throws(CommunicationError)
    /// Waits until `pending` is complete and returns the sum.
    func wait(for pending: PendingSum) throws(CommunicationError) -> [Float]
    /// Waits until every rank is here.
    func barrier() throws(CommunicationError)
    /// Stops every rank now, with exit status `code` (after this rank has printed why).
    func abort(code: Int32) -> Never
    /// Leaves the group at the end of a successful run.
    func finish()
}

/// A sum over the ranks that `Communicator.startAllReduceSum` or `startReduceScatterSum` started;
/// `Communicator.wait(for:)` ends it.
public final class PendingSum {
    /// The values being summed (in place for an allreduce): owned here, since the transport reads and writes them
    /// until the sum is complete.
    let buffer: UnsafeMutableBufferPointer<Float>
    /// A reduce-scatter's slice of the sum for this rank (at least one element, so the transport gets a valid
    /// pointer), and the per-rank counts, which must also stay valid until then; nil for an allreduce.
    let output: UnsafeMutableBufferPointer<Float>?
    let counts: UnsafeMutableBufferPointer<Int32>?
    /// Elements of `output` that are this rank's result.
    let resultCount: Int
    /// The transport's handle while the sum runs; nil once it is complete (or when there was nothing to send).
    var handle: UnsafeMutableRawPointer?

    init(copying values: [Float]) {
        buffer = .allocate(capacity: values.count)
        _ = buffer.initialize(from: values)
        output = nil
        counts = nil
        resultCount = values.count
    }

    /// A reduce-scatter of `values` with `counts[r]` elements of the sum for rank r; this rank gets `counts[rank]`.
    init(copying values: [Float], counts: [Int], rank: Int) {
        buffer = .allocate(capacity: values.count)
        _ = buffer.initialize(from: values)
        resultCount = counts[rank]
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, resultCount))
        out.initialize(repeating: 0)
        output = out
        let c = UnsafeMutableBufferPointer<Int32>.allocate(capacity: counts.count)
        _ = c.initialize(from: counts.map { Int32(clamping: $0) })
        self.counts = c
    }

    /// The number of values sent.
    public var count: Int { buffer.count }

    /// The result: the whole sum (allreduce) or this rank's slice (reduce-scatter).
    var result: [Float] { output.map { Array($0.prefix(resultCount)) } ?? Array(buffer) }

    deinit {
        // A sum never waited for may still be used by the transport: its buffers are leaked rather than freed.
        guard handle == nil else { return }
        buffer.deallocate()
        output?.deallocate()
        counts?.deallocate()
    }
}

/// What the collectives cost so far.
public struct CommunicationStatistics: Sendable, Equatable {
    /// Bytes this rank handed to collectives (its send buffers; the wire traffic of an allreduce among N is about
    /// 2(N−1)/N of its payload).
    public var bytesSent: Int = 0
    /// Wall seconds spent inside collectives, waiting for other ranks included.
    public var seconds: Double = 0
    /// Collective calls.
    public var calls: Int = 0

    public init() {}
}

/// A collective failed, or the group cannot be formed.
public enum CommunicationError: Error, CustomStringConvertible, Equatable {
    /// The transport returned an error code.
    case transport(operation: String, code: Int32, message: String)
    /// The caller's sizes do not fit (a programmer error surfaced as an error instead of a trap).
    case sizeMismatch(operation: String, detail: String)
    /// `--distributed` was asked for, but the process was not started by a launcher such as `mpirun`.
    case notLaunched(hint: String)
    /// Ranks disagree on something that must be the same everywhere (configuration, data).
    case inconsistent(what: String)

    public var description: String {
        switch self {
        case .transport(let operation, let code, let message): "MPI \(operation) failed (error \(code)): \(message)"
        case .sizeMismatch(let operation, let detail): "\(operation): \(detail)"
        case .notLaunched(let hint): "not started as one of several processes; \(hint)"
        case .inconsistent(let what): "the ranks disagree on \(what)"
        }
    }
}

extension Communicator {
    /// Whether this rank prints, writes files and evaluates (rank 0).
    public var isPrimary: Bool { rank == 0 }

    /// Validates `counts` for a collective over a buffer of `total` elements; returns rank offsets.
    func offsets(_ counts: [Int], operation: String) throws(CommunicationError) -> [Int] {
        guard counts.count == size, counts.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else {
            throw .sizeMismatch(operation: operation, detail: "\(counts.count) counts for \(size) ranks, each 0 ... 2³¹−1")
        }
        var offsets: [Int] = [], running = 0
        for c in counts {
            offsets.append(running)
            running += c
        }
        guard running <= Int(Int32.max) else {
            throw .sizeMismatch(operation: operation, detail: "\(running) elements exceed one MPI call's 2³¹−1")
        }
        return offsets
    }
}
