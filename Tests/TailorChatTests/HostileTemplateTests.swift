// Hostile templates from issue 15: each ends in a named ChatTemplateError (with the template's name, line and
// column) or the right answer, never a trap, and never allocates before checking the limit.
import XCTest
@testable import TailorChat

final class HostileTemplateTests: XCTestCase {
    private func render(_ source: String, limits: ChatTemplate.Limits = .init(),
                        _ context: [String: JinjaValue] = [:]) throws -> String
    {
        try ChatTemplate(source: source, limits: limits, sourceName: "hostile.jinja").render(context: context)
    }

    /// The render fails with a limit error whose message starts with the template's name and position.
    private func assertLimit(_ source: String, at position: String, limits: ChatTemplate.Limits = .init(),
                             file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertThrowsError(try render(source, limits: limits), file: file, line: line) { error in
            guard case let .limitExceeded(message)? = error as? ChatTemplateError else {
                return XCTFail("\(error)", file: file, line: line)
            }
            XCTAssertTrue(message.hasPrefix("hostile.jinja:\(position): "), message, file: file, line: line)
        }
    }

    func testIntegerOverflowIsATemplateError() {
        assertLimit("{{ (-9223372036854775807 - 1) | abs }}", at: "1:31")
        assertLimit("{{ -(-9223372036854775807 - 1) }}", at: "1:4")
        assertLimit("{{ (-9223372036854775807 - 1) // -1 }}", at: "1:31")
        assertLimit("\n  {{ 9223372036854775807 + 1 }}", at: "2:26")
        assertLimit("{{ 2 ** 64 }}", at: "1:6")
        // Python: the remainder of INT_MIN by -1 is 0.
        XCTAssertEqual(try render("{{ (-9223372036854775807 - 1) % -1 }}"), "0")
        XCTAssertEqual(try render("{{ -9223372036854775807 | abs }}"), "9223372036854775807")
    }

    func testRangeNearIntBoundsCountsWithoutOverflow() throws {
        XCTAssertEqual(try render("{{ range(-9223372036854775807 - 1, 9223372036854775807, 2 ** 62) | list }}"),
                       "[-9223372036854775808, -4611686018427387904, 0, 4611686018427387904]")
        XCTAssertEqual(try render("{{ range(9223372036854775807, -9223372036854775807 - 1, -(2 ** 62)) | length }}"), "4")
        assertLimit("{{ range(-9223372036854775807 - 1, 9223372036854775807) | length }}", at: "1:9")
        XCTAssertEqual(try render("{{ range(5, 0, -2) | list }} {{ range(3) | list }} {{ range(2, 2) | list }}"),
                       "[5, 3, 1] [0, 1, 2] []")
    }

    func testWidthArgumentsAreCheckedBeforeAllocating() {
        assertLimit("{{ 'a' | center(9223372036854775807) }}", at: "1:8")
        assertLimit("{{ 'a\nb' | indent(10**10) }}", at: "2:4")
        assertLimit("{{ 'a\nb' | indent(10**6) * 100 }}", at: "2:4", limits: .init(maxOutputBytes: 1 << 20))
        assertLimit("{{ messages | tojson(indent=10**9) }}", at: "1:13")
        XCTAssertEqual(try render("{{ 'ab' | center(6) }}|{{ 'abc' | center(-9223372036854775807 - 1) }}"), "  ab  |abc")
        XCTAssertEqual(try render("{{ [1, [2]] | tojson(indent=2) }}"), "[\n  1,\n  [\n    2\n  ]\n]")
    }

    func testNestedIndentsAreBoundedByOutputSize() {
        // Deep nesting multiplies a modest indent; the check happens before each newline is written.
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        assertLimit("{{ \(deep) | tojson(indent=1000000) }}", at: "1:85")
    }

    func testStringsIteratedAsListsAreCountedFirst() {
        assertLimit("{{ ('a' * 16000000) | list | length }}", at: "1:21")
        assertLimit("{% for c in 'a' * 2000000 %}{% endfor %}", at: "1:1")
    }

    func testPrintingSharedNestedListsIsBounded() {
        // A million references to a 1000-item list cost nothing to build but would print gigabytes.
        let source = "{% set a = range(1000) | list %}{% set b = [a] * 1000 %}{{ [b] * 1000 }}"
        XCTAssertThrowsError(try render(source, limits: .init(maxOutputBytes: 1 << 20))) { error in
            guard case .limitExceeded? = error as? ChatTemplateError else { return XCTFail("\(error)") }
        }
    }

    func testQuadraticLoopsRunOutOfSteps() {
        // Growing a list by copying it each iteration: n^2/2 item copies.
        let grow = "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% endfor %}"
        assertLimit(grow, at: "1:78")
        // The same loop, short enough for the budget, renders.
        XCTAssertNoThrow(try render(grow.replacingOccurrences(of: "100000", with: "1000")))
    }

    func testSplitIsLinearAndBounded() throws {
        // A separator that almost matches everywhere: a naive search is quadratic, KMP is not.
        let text = String(repeating: "a", count: 1_000_000)
        let sep = String(repeating: "a", count: 5_000) + "b"
        XCTAssertEqual(try render("{{ text.split(sep) | length }}", ["text": .string(text), "sep": .string(sep)]), "1")
        XCTAssertEqual(try render("{{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'aaa'.split('aa') }}"),
                       "['a', 'b', '', 'c'] ['a,b', 'c'] ['', 'a']")
        XCTAssertEqual(try render("{{ 'aaa'.rsplit('aa', 1) }} {{ 'aaaa'.count('aa') }} {{ 'xax'.replace('x', 'yy') }}"),
                       "['a', ''] 2 yyayy")
        assertLimit("{{ (',' * 2000000).split(',') | length }}", at: "1:25")
    }

    func testReplaceAndJoinAreCheckedBeforeBuilding() {
        assertLimit("{{ ('a' * 1000000).replace('a', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb') }}", at: "1:27")
        assertLimit("{{ ('a' * 1000000) | replace('', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb') }}", at: "1:20")
        assertLimit("{{ ('x' * 1000) | join('y' * 100000) }}", at: "1:17")
    }

    func testPercentFormatOfHugeFloatsDoesNotTrap() throws {
        XCTAssertEqual(try render("{{ '%d' % 1e30 }}"), "1000000000000000019884624838656")
        XCTAssertEqual(try render("{{ '%d' % 9223372036854775807 }}"), "9223372036854775807")
    }

    func testModelTemplateErrorsNameTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tokenizer_config.json")
        try Data(#"{"chat_template": "hi\n{{ messages | tojson(indent=10**9) }}"}"#.utf8).write(to: url)
        let template = try ChatTemplate(contentsOf: url)
        XCTAssertThrowsError(try template.render(messages: [], addGenerationPrompt: false, bosToken: nil, eosToken: nil)) { error in
            XCTAssertTrue("\(error)".contains("\(url.path):2:13: "), "\(error)")
        }
    }
}
