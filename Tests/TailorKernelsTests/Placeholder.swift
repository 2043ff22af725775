import XCTest

final class TailorKernelsTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
