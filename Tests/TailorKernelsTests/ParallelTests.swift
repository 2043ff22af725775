// Parallel.forEachChunk on the spinning worker pool (CTailorKernels/WorkerPool.c): every index exactly once, job
// after job, with one chunk per worker or many claimed one by one, from nested and concurrent callers (which the pool
// hands to GCD).
import XCTest
import CTailorKernels
import Dispatch
@testable import TailorKernels

final class ParallelTests: XCTestCase {
    /// Counts how often each index of `0..<count` was visited by one forEachChunk call.
    static func visits(_ count: Int, chunksPerWorker: Int = 1) -> [Int] {
        var seen = [Int](repeating: 0, count: count)
        seen.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachChunk(count, costPerItem: 1 << 16, chunksPerWorker: chunksPerWorker) { range in
                for i in range { base.value[i] += 1 }
            }
        }
        return seen
    }

    func testEveryIndexOnceJobAfterJob() {
        // One chunk per worker, and several claimed one by one (as the streaming products split their rows).
        for job in 0..<3000 {
            let count = 1 + job % 97, chunksPerWorker = 1 + job % 17
            XCTAssertEqual(Self.visits(count, chunksPerWorker: chunksPerWorker), [Int](repeating: 1, count: count),
                           "job \(job), \(count) indices, \(chunksPerWorker) chunks per worker")
        }
    }

    func testManyPartsOnThePool() {
        // Each part index exactly once, whichever thread claimed it, job after job.
        for parts in [2, 3, 64, 1000, 65_535] {
            var counts = [Int32](repeating: 0, count: parts)
            let taken = counts.withUnsafeMutableBufferPointer { buffer in
                tk_pool_run(Parallel.workerCount, parts, { context, index in
                    context!.assumingMemoryBound(to: Int32.self)[index] += 1
                }, buffer.baseAddress!)
            }
            guard taken == 1 else { continue }   // a one-core machine, or a pool started for another thread count
            XCTAssertEqual(counts, [Int32](repeating: 1, count: parts), "\(parts) parts")
        }
    }

    func testNestedAndConcurrentCallers() {
        // A chunk that splits its own loop (nested), and four threads calling at once: the pool takes one job at a
        // time and the others run on GCD; each index is still visited once.
        let outer = 8, inner = 50
        var nested = [Int](repeating: 0, count: outer * inner)
        nested.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachChunk(outer, costPerItem: 1 << 16) { rows in
                for row in rows {
                    Parallel.forEachChunk(inner, costPerItem: 1 << 16) { columns in
                        for column in columns { base.value[row * inner + column] += 1 }
                    }
                }
            }
        }
        XCTAssertEqual(nested, [Int](repeating: 1, count: outer * inner))

        let failures = UncheckedSendable(UnsafeMutablePointer<Int>.allocate(capacity: 4))
        defer { failures.value.deallocate() }
        failures.value.initialize(repeating: 0, count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for job in 0..<500 where Self.visits(10 + job % 13) != [Int](repeating: 1, count: 10 + job % 13) {
                failures.value[caller] += 1
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: failures.value, count: 4)), [0, 0, 0, 0])
    }

    func testPoolRefusesWhatItCannotTake() {
        // Fewer than two threads or parts, or more parts than a ticket counts: nothing runs and the caller is told to do
        // the work itself.
        var ran = 0
        for (threads, parts) in [(1, 4), (2, 1), (2, 0), (2, 65_536)] {
            let taken = withUnsafeMutablePointer(to: &ran) { pointer in
                tk_pool_run(threads, parts, { context, _ in context!.assumingMemoryBound(to: Int.self).pointee += 1 }, pointer)
            }
            XCTAssertEqual(taken, 0, "\(threads) threads, \(parts) parts")
        }
        XCTAssertEqual(ran, 0)
    }
}
