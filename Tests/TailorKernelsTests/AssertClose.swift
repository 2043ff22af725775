// Shared assertion of the kernel tests.
import XCTest
import TailorTensor
import TailorTestSupport

/// Fails when `actual` and `expected` differ in shape or by more than `tolerance` (relative, see `closenessFailure`).
func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
    if let failure = closenessFailure(actual.floats(), expected.floats(), tolerance: tolerance, what: what) {
        XCTFail(failure, file: file, line: line)
    }
}
