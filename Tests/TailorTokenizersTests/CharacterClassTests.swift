// Every Unicode scalar's class agrees with Oniguruma's \p{L}, \p{N}, \s and Rust's char::is_numeric as the
// tokenizers library applies them (ranges dumped by tools/reference/tokenizers_fixtures.py).
import XCTest
@testable import TailorTokenizers

final class CharacterClassTests: XCTestCase {
    func testClassesMatchTokenizersLibrary() throws {
        let ranges = try Fixtures.object("char_classes.json")
        for (key, bit) in [("L", CharClass.letter), ("N", CharClass.number), ("s", CharClass.space),
                           ("numeric", CharClass.rustNumeric)] {
            guard let list = ranges[key]?.arrayValue?.compactMap({ Fixtures.ints($0) }) else {
                throw FixtureError.shape("char_classes.json[\(key)]")
            }
            var expected = [Bool](repeating: false, count: 0x110000)
            for pair in list where pair.count == 2 { for value in pair[0]...pair[1] { expected[value] = true } }
            var differences: [String] = []
            for value in 0..<0x110000 {
                guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
                if (CharClass.of(scalar) & bit != 0) != expected[value] { differences.append(String(value, radix: 16)) }
            }
            XCTAssertTrue(differences.isEmpty, "\(key): \(differences.count) code points differ, e.g. \(differences.prefix(20))")
        }
    }
}
