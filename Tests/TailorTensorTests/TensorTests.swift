// Tensor values, copy-on-write, dtype conversion and memory accounting.
import XCTest
import TailorTensor
import TailorTestSupport

final class TensorTests: XCTestCase {
    func testCopyOnWriteLeavesTheOriginalAlone() {
        let a = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        var b = a
        b.withUnsafeMutableFloats { $0[0] = 9 }
        XCTAssertEqual(a.floats(), [1, 2, 3, 4])
        XCTAssertEqual(b.floats(), [9, 2, 3, 4])
    }

    func testBF16RoundsToNearestEvenAndKeepsNaNQuiet() {
        // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even mantissa (1.0).
        XCTAssertEqual(HalfConversion.bf16(from: 1 + 0x1p-8), 0x3F80)
        // 1 + 3·2^-8 is halfway too: rounds up to the even neighbour 1 + 2^-6.
        XCTAssertEqual(HalfConversion.bf16(from: 1 + 3 * 0x1p-8), 0x3F82)
        XCTAssertEqual(HalfConversion.bf16(from: -2.5), 0xC020)
        let nan = HalfConversion.bf16(from: Float(bitPattern: 0x7F80_0001))
        XCTAssertTrue(HalfConversion.float(fromBF16: nan).isNaN)
        XCTAssertEqual(HalfConversion.f16(from: 65520), 0x7C00, "f16 overflow rounds to infinity")
        let t = Tensor(shape: [3], values: [0.1, -7, 1e-3]).converted(to: .bf16)
        XCTAssertEqual(t.dtype, .bf16)
        XCTAssertEqual(t.byteCount, 6)
        XCTAssertEqual(t.floats(), [0.10009765625, -7, 0.00099945068359375])
    }

    func testMemoryTrackerCountsLiveAndPeakBytes() {
        let tracker = MemoryTracker.shared
        tracker.resetPeak()
        let before = tracker.liveBytes
        do {
            let big = Tensor(zeros: [1024, 1024])
            XCTAssertGreaterThanOrEqual(tracker.liveBytes - before, big.byteCount)
        }
        XCTAssertGreaterThanOrEqual(tracker.peakBytes - before, 4 << 20)
        XCTAssertLessThan(tracker.liveBytes - before, 4 << 20, "freed when the last reference goes")
    }

    func testRowsAndReshape() {
        let t = Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.rows(1..<3).floats(), [3, 4, 5, 6])
        XCTAssertEqual(t.reshaped([2, 3]).shape, [2, 3])
    }
}
