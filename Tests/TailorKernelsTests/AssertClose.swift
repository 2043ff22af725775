// Shared assertion of the kernel tests.
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

/// Fails when `actual` and `expected` differ in shape or by more than `tolerance` (relative, see `closenessFailure`).
func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
    if let failure = closenessFailure(actual.floats(), expected.floats(), tolerance: tolerance, what: what) {
        XCTFail(failure, file: file, line: line)
    }
}

/// Runs `body` on every vector-kernel body this CPU has (AVX-512, AVX2, scalar), best first, with the body's name.
func forEachKernelBody(_ body: (String) -> Void) {
    for cap in StreamingKernelBody.allCases.reversed() where cap <= streamingKernelBody {
        withStreamingKernels(cappedAt: cap) { body("\(cap)") }
    }
}
