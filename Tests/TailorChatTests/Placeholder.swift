import XCTest

final class TailorChatTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
