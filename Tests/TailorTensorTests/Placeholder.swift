import XCTest

final class TailorTensorTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
