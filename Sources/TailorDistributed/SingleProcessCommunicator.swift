// The communicator of a run without MPI: one rank, every collective the identity.
import Foundation

/// One process alone: reductions and gathers return their input.
public final class SingleProcessCommunicator: Communicator {
    public let rank = 0
    public let size = 1
    public private(set) var statistics = CommunicationStatistics()

    public init() {}

    public func allReduceSum(_ values: inout [Float]) throws(CommunicationError) {}
    public func allReduce(_ values: inout [Double], _ operation: ReduceOperation) throws(CommunicationError) {}

    public func reduceScatterSum(_ values: [Float], counts: [Int]) throws(CommunicationError) -> [Float] {
        _ = try offsets(counts, operation: "reduce-scatter")
        guard counts[0] == values.count else {
            throw .sizeMismatch(operation: "reduce-scatter", detail: "\(values.count) values, counts \(counts)")
        }
        return values
    }

    public func allGather(_ shard: [Float], counts: [Int]) throws(CommunicationError) -> [Float] {
        _ = try offsets(counts, operation: "all-gather")
        guard counts[0] == shard.count else {
            throw .sizeMismatch(operation: "all-gather", detail: "\(shard.count) values, counts \(counts)")
        }
        return shard
    }

    public func allGather(bytes shard: [UInt8], counts: [Int]) throws(CommunicationError) -> [UInt8] {
        _ = try offsets(counts, operation: "all-gather")
        guard counts[0] == shard.count else {
            throw .sizeMismatch(operation: "all-gather", detail: "\(shard.count) bytes, counts \(counts)")
        }
        return shard
    }

    public func gather(_ shard: [Float], counts: [Int], root: Int) throws(CommunicationError) -> [Float] {
        try allGather(shard, counts: counts)
    }

    public func startAllReduceSum(_ values: [Float]) throws(CommunicationError) -> PendingSum { PendingSum(copying: values) }
    public func startReduceScatterSum(_ values: [Float], counts: [Int]) throws(CommunicationError) -> PendingSum {
        PendingSum(copying: try reduceScatterSum(values, counts: counts))
    }
    public func progress(_ pending: [PendingSum]) throws(CommunicationError) {}
    public func wait(for pending: PendingSum) throws(CommunicationError) -> [Float] { pending.result }
    public func broadcast(_ values: inout [Float], root: Int) throws(CommunicationError) {}
    public func barrier() throws(CommunicationError) {}
    public func abort(code: Int32) -> Never { exit(code) }
    public func finish() {}
}
