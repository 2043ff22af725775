import XCTest

final class TailorCLITestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
