import XCTest

final class TailorTokenizersTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
