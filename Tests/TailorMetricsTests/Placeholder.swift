import XCTest

final class TailorMetricsTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
