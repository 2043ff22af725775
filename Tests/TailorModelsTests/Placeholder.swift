import XCTest

final class TailorModelsTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
