// The buffer pool behind tensor storages: reuse, the idle limit, and zeroed storages on reused bytes.
import XCTest
@testable import TailorTensor

final class StoragePoolTests: XCTestCase {
    func testLargeBuffersAreReusedAndSmallOnesAreNot() {
        let pool = StoragePool(idleByteLimit: 8 << 20)
        let large = pool.take(3 << 20)
        pool.give(large, byteCount: 3 << 20)
        XCTAssertEqual(pool.idleBytes, 3 << 20)
        // A request of the same size rounded to a page gets the same buffer back.
        XCTAssertEqual(pool.take((3 << 20) - 100), large)
        XCTAssertEqual(pool.idleBytes, 0)
        pool.give(large, byteCount: 3 << 20)
        let small = pool.take(1000)
        pool.give(small, byteCount: 1000)
        XCTAssertEqual(pool.idleBytes, 3 << 20, "a small buffer went to the pool")
        pool.drain()
        XCTAssertEqual(pool.idleBytes, 0)
    }

    func testIdleBytesStayUnderTheLimit() {
        let pool = StoragePool(idleByteLimit: 5 << 20)
        let buffers = (0..<3).map { _ in pool.take(2 << 20) }
        for b in buffers { pool.give(b, byteCount: 2 << 20) }
        XCTAssertEqual(pool.idleBytes, 4 << 20, "the third buffer should have been freed")
        pool.drain()
    }

    func testIdleBytesStayUnderThePeakOfLiveBytes() {
        // Tracker: 10 MiB were live at the peak, 4 MiB are live now, so 6 MiB may sit idle.
        let tracker = MemoryTracker()
        tracker.allocated(10 << 20)
        tracker.freed(6 << 20)
        let pool = StoragePool(idleByteLimit: .max, tracker: tracker)
        let buffers = (0..<4).map { _ in pool.take(2 << 20) }
        for b in buffers { pool.give(b, byteCount: 2 << 20) }
        XCTAssertEqual(pool.idleBytes, 6 << 20, "idle bytes beyond the peak's headroom were kept")
        // A fresh size frees the oldest idle buffers to make room for itself.
        let other = pool.take(3 << 20)
        XCTAssertEqual(pool.idleBytes, 2 << 20)
        pool.give(other, byteCount: 3 << 20)
        pool.drain()
    }

    func testZeroedTensorOnReusedBytesIsZero() {
        let count = (2 << 20) / 4
        do {
            var dirty = Tensor(uninitialized: [count])
            dirty.withUnsafeMutableFloats { $0.update(repeating: 7) }
        }   // its bytes go back to the shared pool
        let clean = Tensor(zeros: [count])
        XCTAssertEqual(clean.floats().max(), 0)
        XCTAssertEqual(clean.floats().min(), 0)
    }
}
