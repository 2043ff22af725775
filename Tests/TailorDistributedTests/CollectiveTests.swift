// The collectives against a plain sum: under `mpirun -np 3` (this test binary started again as three ranks) on
// buffers of odd sizes, and the single-process communicator and the partition on their own.
import Foundation
import TailorDistributed
import TailorTensor
import TailorTestSupport
import XCTest

final class CollectiveTests: XCTestCase {
    func testPartitionIsContiguousBalancedAndComplete() {
        let p = ContiguousPartition(sizes: [10, 10, 10, 10], parts: 2)
        XCTAssertEqual(p.ranges, [0..<2, 2..<4])
        XCTAssertEqual(p.elementCounts, [20, 20])
        let skewed = ContiguousPartition(sizes: [100, 1, 1, 1, 97], parts: 2)
        XCTAssertEqual(skewed.ranges, [0..<1, 1..<5])
        XCTAssertEqual(skewed.elementCounts, [100, 100])
        XCTAssertEqual(skewed.totals(of: [1, 2, 3, 4, 5]), [1, 14])
        // More ranks than items: some own nothing, and every item is owned once.
        let few = ContiguousPartition(sizes: [5, 7], parts: 4)
        XCTAssertEqual(few.ranges.map(\.count).reduce(0, +), 2)
        XCTAssertEqual(few.elementCounts.reduce(0, +), 12)
        XCTAssertEqual(few.ranges.last?.upperBound, 2)
        for (a, b) in zip(few.ranges, few.ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
    }

    func testSingleProcessCollectivesAreTheIdentity() throws {
        let c = SingleProcessCommunicator()
        var x: [Float] = [1, 2, 3]
        try c.allReduceSum(&x)
        XCTAssertEqual(x, [1, 2, 3])
        XCTAssertEqual(try c.reduceScatterSum(x, counts: [3]), x)
        XCTAssertEqual(try c.allGather(x, counts: [3]), x)
        XCTAssertThrowsError(try c.allGather(x, counts: [2]))
        XCTAssertEqual(try c.allGather(bytes: [1, 255, 3], counts: [3]), [1, 255, 3])
        XCTAssertThrowsError(try c.allGather(bytes: [1], counts: [2]))
        XCTAssertThrowsError(try c.reduceScatterSum(x, counts: [1, 2]))
        let pending = try c.startAllReduceSum(x)
        try c.progress([pending])
        XCTAssertEqual(try c.wait(for: pending), x)
        XCTAssertEqual(try c.wait(for: try c.startReduceScatterSum(x, counts: [3])), x)
    }

    /// Runs `testCollectivesUnderMPI` as three ranks (odd, so nothing splits evenly).
    func testCollectivesMatchPlainSumsOnThreeRanks() throws {
        if MPILaunch.isRank { throw XCTSkip("a rank runs testCollectivesUnderMPI only") }
        guard let mpirun = MPILaunch.mpirun else { throw XCTSkip("mpirun not found: install openmpi-bin (scripts/install-deps.sh)") }
        let process = Process()
        process.executableURL = mpirun
        process.arguments = MPILaunch.arguments(ranks: 3)
            + [CommandLine.arguments[0], "TailorDistributedTests.CollectiveTests/testCollectivesUnderMPI"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertEqual(output.components(separatedBy: "collectives checked on rank").count - 1, 3, output)
    }

    /// One rank's half of the check: every rank knows every rank's buffer (seeded by rank), so each computes the
    /// expected sums itself. Values are multiples of 1/1024 below 8 in magnitude, so any summation order is exact.
    func testCollectivesUnderMPI() throws {
        guard MPILaunch.isRank else { throw XCTSkip("started by testCollectivesMatchPlainSumsOnThreeRanks") }
        let c = try Communicators.detect(insist: true)
        let n = c.size
        XCTAssertEqual(n, 3)
        func buffer(rank: Int, count: Int, salt: UInt64) -> [Float] {
            var rng = SplitMix64(seed: salt &* 1_000_003 &+ UInt64(rank))
            return (0..<count).map { _ in Float(Int(rng.next() % 16_384) - 8_192) / 1024 }
        }
        func plainSum(count: Int, salt: UInt64) -> [Float] {
            var sum = [Float](repeating: 0, count: count)
            for r in 0..<n { for (i, v) in buffer(rank: r, count: count, salt: salt).enumerated() { sum[i] += v } }
            return sum
        }
        for count in [0, 1, 7, 1_001, 65_537] {
            let salt = UInt64(count)
            var x = buffer(rank: c.rank, count: count, salt: salt)
            try c.allReduceSum(&x)
            XCTAssertEqual(x, plainSum(count: count, salt: salt), "allreduce of \(count)")

            // Uneven counts with an empty rank: 0, count / 3, the rest.
            let counts = [0, count / 3, count - count / 3]
            let scattered = try c.reduceScatterSum(buffer(rank: c.rank, count: count, salt: salt), counts: counts)
            let start = counts[..<c.rank].reduce(0, +)
            XCTAssertEqual(scattered, Array(plainSum(count: count, salt: salt)[start..<start + counts[c.rank]]), "reduce-scatter of \(count)")

            let shardCounts = (0..<n).map { count / (1 + $0) }
            let gathered = try c.allGather(buffer(rank: c.rank, count: shardCounts[c.rank], salt: salt + 1), counts: shardCounts)
            let expected = (0..<n).flatMap { buffer(rank: $0, count: shardCounts[$0], salt: salt + 1) }
            XCTAssertEqual(gathered, expected, "all-gather of \(shardCounts)")
            // Raw bytes (bf16 weights): odd byte counts, every bit pattern moved unchanged.
            func bytes(rank: Int, count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ rank &* 7 &+ count) } }
            let byteCounts = (0..<n).map { (count + $0) / (1 + $0) }
            XCTAssertEqual(try c.allGather(bytes: bytes(rank: c.rank, count: byteCounts[c.rank]), counts: byteCounts),
                           (0..<n).flatMap { bytes(rank: $0, count: byteCounts[$0]) }, "all-gather of \(byteCounts) bytes")
            let atRoot = try c.gather(buffer(rank: c.rank, count: shardCounts[c.rank], salt: salt + 1), counts: shardCounts, root: 1)
            XCTAssertEqual(atRoot, c.rank == 1 ? expected : [], "gather of \(shardCounts) to rank 1")

            var b = buffer(rank: c.rank, count: count, salt: salt + 2)
            try c.broadcast(&b, root: 2)
            XCTAssertEqual(b, buffer(rank: 2, count: count, salt: salt + 2), "broadcast of \(count) from rank 2")
        }
        // Non-blocking sums: several in flight at once, a blocking collective between start and wait, waited in order.
        let sizes = [0, 3, 1_001, 65_537]
        let pending = try sizes.map { try c.startAllReduceSum(buffer(rank: c.rank, count: $0, salt: UInt64($0) + 7)) }
        // Non-blocking reduce-scatters in flight with them, rank 0 receiving nothing.
        let scatters = try sizes.map { count in
            try c.startReduceScatterSum(buffer(rank: c.rank, count: count, salt: UInt64(count) + 9), counts: [0, count / 3, count - count / 3])
        }
        try c.progress(pending + scatters)
        var flag = [Double(c.rank)]
        try c.allReduce(&flag, .max)
        XCTAssertEqual(flag, [2])
        for (count, sum) in zip(sizes, pending) {
            XCTAssertEqual(try c.wait(for: sum), plainSum(count: count, salt: UInt64(count) + 7), "non-blocking allreduce of \(count)")
        }
        for (count, scatter) in zip(sizes, scatters) {
            let counts = [0, count / 3, count - count / 3], start = counts[..<c.rank].reduce(0, +)
            XCTAssertEqual(try c.wait(for: scatter), Array(plainSum(count: count, salt: UInt64(count) + 9)[start..<start + counts[c.rank]]),
                           "non-blocking reduce-scatter of \(count)")
        }
        var d = [Double(c.rank) + 0.5, -Double(c.rank)]
        var low = d, high = d
        try c.allReduce(&d, .sum)
        try c.allReduce(&low, .min)
        try c.allReduce(&high, .max)
        XCTAssertEqual(d, [4.5, -3])
        XCTAssertEqual(low, [0.5, -2])
        XCTAssertEqual(high, [2.5, 0])
        XCTAssertThrowsError(try c.allGather([1], counts: [1, 1]), "two counts for three ranks")
        try c.barrier()
        XCTAssertGreaterThan(c.statistics.bytesSent, 65_537 * 4)
        XCTAssertGreaterThan(c.statistics.calls, 20)
        print("collectives checked on rank \(c.rank)")
        c.finish()
    }
}
