// Parallel.forEachChunk on the spinning worker pool (CTailorKernels/WorkerPool.c): every index exactly once, job
// after job, from nested and concurrent callers (which the pool hands to GCD).
import XCTest
import CTailorKernels
import Dispatch
@testable import TailorKernels

final class ParallelTests: XCTestCase {
    /// Counts how often each index of `0..<count` was visited by one forEachChunk call.
    static func visits(_ count: Int) -> [Int] {
        var seen = [Int](repeating: 0, count: count)
        seen.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachChunk(count, costPerItem: 1 << 16) { range in
                for i in range { base.value[i] += 1 }
            }
        }
        return seen
    }

    func testEveryIndexOnceJobAfterJob() {
        for job in 0..<3000 {
            let count = 1 + job % 97
            XCTAssertEqual(Self.visits(count), [Int](repeating: 1, count: count), "job \(job), \(count) indices")
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
        // Fewer than two chunks: nothing runs and the caller is told to do the work itself.
        var ran = 0
        let taken = withUnsafeMutablePointer(to: &ran) { pointer in
            tk_pool_run(1, { context, _ in context!.assumingMemoryBound(to: Int.self).pointee += 1 }, pointer)
        }
        XCTAssertEqual(taken, 0)
        XCTAssertEqual(ran, 0)
    }
}
