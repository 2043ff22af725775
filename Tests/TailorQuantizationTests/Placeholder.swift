import XCTest

final class TailorQuantizationTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
