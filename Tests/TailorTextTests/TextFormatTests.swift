// JSON Lines splitting with line numbers, and the HTML escaper (markupsafe's spelling).
import TailorText
import XCTest

final class TextFormatTests: XCTestCase {
    func testLinesAreNumberedAndBlankLinesSkipped() {
        let bytes = Array("\u{FEFF}{\"a\":1}\r\n\n  \t\n{\"a\":2}".utf8)
        let lines = JSONLines.lines(bytes)
        XCTAssertEqual(lines.map(\.number), [1, 4])
        XCTAssertEqual(lines.map { String(decoding: $0.bytes, as: UTF8.self) }, ["{\"a\":1}", "{\"a\":2}"])
    }

    func testObjectsNameFileAndLine() throws {
        let rows = try JSONLines.objects(Array("{\"a\":1}\n\n{\"a\":NaN}\n".utf8), file: "x.jsonl")
        XCTAssertEqual(rows.map(\.line), [1, 3])
        XCTAssertThrowsError(try JSONLines.objects(Array("{\"a\":1}\n[1]\n".utf8), file: "x.jsonl")) { error in
            XCTAssertEqual("\(error)", "x.jsonl:2: expected a JSON object")
        }
        XCTAssertThrowsError(try JSONLines.objects(Array("{\"a\":1}\n{\"a\" 1}\n".utf8), file: "d/x.jsonl")) { error in
            XCTAssertEqual("\(error)", "d/x.jsonl:2: not valid JSON: expecting ':' delimiter at column 6")
        }
    }

    func testHTMLEscapingAsMarkupsafe() {
        // markupsafe.escape("<a href=\"x\">&'é")
        XCTAssertEqual(HTMLText.escaped("<a href=\"x\">&'é"), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;é")
    }
}
