// Open MPI behind the Communicator seam (Linux): one rank per process started by `mpirun -np N`.
#if canImport(CMPI)
import CMPI
import Foundation

/// The ranks of `MPI_COMM_WORLD`. Only the thread that created it calls MPI (`MPI_THREAD_FUNNELED`); errors come
/// back as `CommunicationError` (`MPI_ERRORS_RETURN`) so the caller can name its rank before `abort`.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public private(set) var statistics = CommunicationStatistics()

    /// Joins the group the launcher formed.
    public init() throws(CommunicationError) {
        try Self.check(cmpi_init(), "MPI_Init_thread")
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(cmpi_rank(&r), "MPI_Comm_rank")
        try Self.check(cmpi_size(&s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    /// Whether a launcher started this process as one of a group (Open MPI's or PMIx's environment).
    public static var isLaunched: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil || environment["PMI_SIZE"] != nil
    }

    static func check(_ code: Int32, _ operation: String) throws(CommunicationError) {
        guard code != 0 else { return }   // MPI_SUCCESS
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        cmpi_error_string(code, &buffer)
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw .transport(operation: operation, code: code, message: message)
    }

    /// Runs one collective, counting its bytes and time.
    private func timed(_ operation: String, bytes: Int, _ body: () -> Int32) throws(CommunicationError) {
        let start = DispatchTime.now().uptimeNanoseconds
        let code = body()
        statistics.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        statistics.bytesSent += bytes
        statistics.calls += 1
        try Self.check(code, operation)
    }

    /// At most this many elements per MPI call (counts are C ints).
    static let chunk = 1 << 28

    public func allReduceSum(_ values: inout [Float]) throws(CommunicationError) {
        let n = values.count
        try values.withUnsafeMutableBufferPointer { (p) throws(CommunicationError) in
            guard let base = p.baseAddress else { return }
            for start in stride(from: 0, to: n, by: Self.chunk) {
                let count = min(Self.chunk, n - start)
                try timed("MPI_Allreduce", bytes: count * 4) { cmpi_allreduce_sum_f32(base + start, Int32(count)) }
            }
        }
    }

    public func allReduce(_ values: inout [Double], _ operation: ReduceOperation) throws(CommunicationError) {
        guard values.count <= Self.chunk else {
            throw .sizeMismatch(operation: "allreduce", detail: "\(values.count) doubles in one call")
        }
        let n = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { (p) throws(CommunicationError) in
            guard let base = p.baseAddress else { return }
            try timed("MPI_Allreduce", bytes: Int(n) * 8) { cmpi_allreduce_f64(base, n, operation.rawValue) }
        }
    }

    public func reduceScatterSum(_ values: [Float], counts: [Int]) throws(CommunicationError) -> [Float] {
        let offsets = try offsets(counts, operation: "reduce-scatter")
        guard offsets[size - 1] + counts[size - 1] == values.count else {
            throw .sizeMismatch(operation: "reduce-scatter", detail: "\(values.count) values, counts \(counts)")
        }
        var output = [Float](repeating: 0, count: counts[rank])
        let counts32 = counts.map { Int32($0) }
        try values.withUnsafeBufferPointer { (input) throws(CommunicationError) in
            try output.withUnsafeMutableBufferPointer { (out) throws(CommunicationError) in
                var scratch: Float = 0   // MPI wants valid pointers even for empty buffers
                try timed("MPI_Reduce_scatter", bytes: values.count * 4) {
                    cmpi_reduce_scatter_sum_f32(input.baseAddress ?? withUnsafePointer(to: &scratch) { $0 },
                                                out.baseAddress ?? withUnsafeMutablePointer(to: &scratch) { $0 }, counts32)
                }
            }
        }
        return output
    }

    public func allGather(_ shard: [Float], counts: [Int]) throws(CommunicationError) -> [Float] {
        try gathered(shard, counts: counts, root: nil)
    }

    public func allGather(bytes shard: [UInt8], counts: [Int]) throws(CommunicationError) -> [UInt8] {
        let offsets = try offsets(counts, operation: "all-gather")
        guard counts[rank] == shard.count else {
            throw .sizeMismatch(operation: "all-gather", detail: "rank \(rank) gives \(shard.count) bytes, counts \(counts)")
        }
        var output = [UInt8](repeating: 0, count: offsets[size - 1] + counts[size - 1])
        let counts32 = counts.map { Int32($0) }, offsets32 = offsets.map { Int32($0) }
        try shard.withUnsafeBufferPointer { (input) throws(CommunicationError) in
            try output.withUnsafeMutableBufferPointer { (out) throws(CommunicationError) in
                var scratch: UInt8 = 0   // MPI wants valid pointers even for empty buffers
                let source = input.baseAddress ?? withUnsafePointer(to: &scratch) { $0 }
                let target = out.baseAddress ?? withUnsafeMutablePointer(to: &scratch) { $0 }
                try timed("MPI_Allgatherv", bytes: shard.count) {
                    cmpi_allgatherv_bytes(source, Int32(shard.count), target, counts32, offsets32)
                }
            }
        }
        return output
    }

    public func gather(_ shard: [Float], counts: [Int], root: Int) throws(CommunicationError) -> [Float] {
        guard (0..<size).contains(root) else { throw .sizeMismatch(operation: "gather", detail: "root \(root) of \(size) ranks") }
        return try gathered(shard, counts: counts, root: root)
    }

    /// All-gather (`root` nil) or gather to `root`, with per-rank counts.
    private func gathered(_ shard: [Float], counts: [Int], root: Int?) throws(CommunicationError) -> [Float] {
        let operation = root == nil ? "all-gather" : "gather"
        let offsets = try offsets(counts, operation: operation)
        guard counts[rank] == shard.count else {
            throw .sizeMismatch(operation: operation, detail: "rank \(rank) gives \(shard.count) values, counts \(counts)")
        }
        let total = offsets[size - 1] + counts[size - 1]
        let receives = root == nil || root == rank
        var output = [Float](repeating: 0, count: receives ? total : 0)
        let counts32 = counts.map { Int32($0) }, offsets32 = offsets.map { Int32($0) }
        try shard.withUnsafeBufferPointer { (input) throws(CommunicationError) in
            try output.withUnsafeMutableBufferPointer { (out) throws(CommunicationError) in
                var scratch: Float = 0
                let source = input.baseAddress ?? withUnsafePointer(to: &scratch) { $0 }
                let target = out.baseAddress ?? withUnsafeMutablePointer(to: &scratch) { $0 }
                if let root {
                    try timed("MPI_Gatherv", bytes: shard.count * 4) {
                        cmpi_gatherv_f32(source, Int32(shard.count), target, counts32, offsets32, Int32(root))
                    }
                } else {
                    try timed("MPI_Allgatherv", bytes: shard.count * 4) {
                        cmpi_allgatherv_f32(source, Int32(shard.count), target, counts32, offsets32)
                    }
                }
            }
        }
        return output
    }

    public func broadcast(_ values: inout [Float], root: Int) throws(CommunicationError) {
        guard (0..<size).contains(root) else { throw .sizeMismatch(operation: "broadcast", detail: "root \(root) of \(size) ranks") }
        let n = values.count
        try values.withUnsafeMutableBufferPointer { (p) throws(CommunicationError) in
            guard let base = p.baseAddress else { return }
            for start in stride(from: 0, to: n, by: Self.chunk) {
                let count = min(Self.chunk, n - start)
                try timed("MPI_Bcast", bytes: rank == root ? count * 4 : 0) { cmpi_bcast_f32(base + start, Int32(count), Int32(root)) }
            }
        }
    }

    public func startAllReduceSum(_ values: [Float]) throws(CommunicationError) -> PendingSum {
        guard values.count <= Self.chunk else {
            throw .sizeMismatch(operation: "non-blocking allreduce", detail: "\(values.count) values in one call (at most \(Self.chunk))")
        }
        let pending = PendingSum(copying: values)
        guard let base = pending.buffer.baseAddress else { return pending }
        var handle: UnsafeMutableRawPointer?
        try timed("MPI_Iallreduce", bytes: values.count * 4) { cmpi_iallreduce_sum_f32(base, Int32(values.count), &handle) }
        pending.handle = handle
        return pending
    }

    public func startReduceScatterSum(_ values: [Float], counts: [Int]) throws(CommunicationError) -> PendingSum {
        let offsets = try offsets(counts, operation: "non-blocking reduce-scatter")
        guard offsets[size - 1] + counts[size - 1] == values.count else {
            throw .sizeMismatch(operation: "non-blocking reduce-scatter", detail: "\(values.count) values, counts \(counts)")
        }
        let pending = PendingSum(copying: values, counts: counts, rank: rank)
        guard let input = pending.buffer.baseAddress, let output = pending.output?.baseAddress,
              let counts32 = pending.counts?.baseAddress else { return pending }   // nothing to sum on any rank
        var handle: UnsafeMutableRawPointer?
        try timed("MPI_Ireduce_scatter", bytes: values.count * 4) { cmpi_ireduce_scatter_sum_f32(input, output, counts32, &handle) }
        pending.handle = handle
        return pending
    }

    public func progress(_ pending: [PendingSum]) throws(CommunicationError) {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { statistics.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        for sum in pending {
            guard let handle = sum.handle else { continue }
            var done: Int32 = 0
            try Self.check(cmpi_test(handle, &done), "MPI_Test")
            guard done != 0 else { break }   // sums complete in the order they started
        }
    }

    public func wait(for pending: PendingSum) throws(CommunicationError) -> [Float] {
        if let handle = pending.handle {
            let start = DispatchTime.now().uptimeNanoseconds
            let code = cmpi_wait(handle)   // frees the handle
            pending.handle = nil
            statistics.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try Self.check(code, "MPI_Wait")
        }
        return pending.result
    }

    public func barrier() throws(CommunicationError) {
        try timed("MPI_Barrier", bytes: 0) { cmpi_barrier() }
    }

    public func abort(code: Int32) -> Never {
        _ = cmpi_abort(code)
        exit(code)
    }

    public func finish() { _ = cmpi_finalize() }
}
#endif
