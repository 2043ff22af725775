import XCTest

final class TailorFormatsTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
