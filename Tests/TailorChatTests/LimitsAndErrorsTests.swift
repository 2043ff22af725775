// Safety limits, error reporting and the value helpers behind Python-compatible printing.
import Foundation
import TailorText
import XCTest
@testable import TailorChat

final class LimitsAndErrorsTests: XCTestCase {
    private func render(_ source: String, limits: ChatTemplate.Limits = .init(), _ context: [String: JinjaValue] = [:]) throws -> String {
        try ChatTemplate(source: source, limits: limits).render(context: context)
    }

    private func assertLimit(_ source: String, limits: ChatTemplate.Limits, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try render(source, limits: limits), file: file, line: line) { error in
            guard case .limitExceeded? = error as? ChatTemplateError else { return XCTFail("\(error)", file: file, line: line) }
        }
    }

    func testLoopIterationLimit() {
        assertLimit("{% for i in range(100) %}{% for j in range(100) %}x{% endfor %}{% endfor %}",
                    limits: .init(maxLoopIterations: 1_000))
        XCTAssertNoThrow(try render("{% for i in range(10) %}{% for j in range(10) %}x{% endfor %}{% endfor %}",
                                    limits: .init(maxLoopIterations: 1_000)))
    }

    func testOutputLimit() {
        assertLimit("{% for i in range(1000) %}0123456789{% endfor %}", limits: .init(maxOutputBytes: 5_000))
        assertLimit("{{ 'x' * 100000 }}", limits: .init(maxOutputBytes: 5_000))
        // Doubling a string held in a namespace (plain `set` inside a loop would not leak out of the iteration).
        assertLimit("{% set ns = namespace(s='ab') %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                    limits: .init(maxOutputBytes: 1 << 20))
    }

    func testRecursionLimit() {
        assertLimit("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", limits: .init(maxRecursionDepth: 50))
        XCTAssertEqual(try render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ n }}{% endif %}{% endmacro %}{{ f(5) }}",
                                  limits: .init(maxRecursionDepth: 50)), "12345")
    }

    func testCollectionLimit() {
        assertLimit("{{ range(10000000) | length }}", limits: .init(maxCollectionCount: 1_000_000))
        assertLimit("{{ ([1] * 2000000) | length }}", limits: .init(maxCollectionCount: 1_000_000))
    }

    func testDeepExpressionNestingIsASyntaxErrorNotACrash() {
        let deep = "{{ " + String(repeating: "(", count: 1000) + "1" + String(repeating: ")", count: 1000) + " }}"
        XCTAssertThrowsError(try ChatTemplate(source: deep)) { error in
            guard case .syntax? = error as? ChatTemplateError else { return XCTFail("\(error)") }
        }
    }

    func testLongOperatorChainsAreBounded() {
        for op in [" + ", " and ", " | trim", ".x", " if true else 1"] {
            let chain: String
            if op.hasPrefix(" |") || op.hasPrefix(".") || op.hasPrefix(" if") {
                chain = "{{ 'a'" + String(repeating: op, count: 5000) + " }}"
            } else {
                chain = "{{ 1" + String(repeating: op + "1", count: 5000) + " }}"
            }
            XCTAssertThrowsError(try ChatTemplate(source: chain), op) { error in
                guard case .syntax? = error as? ChatTemplateError else { return XCTFail("\(error)") }
            }
        }
        XCTAssertEqual(try render("{{ 1" + String(repeating: " + 1", count: 100) + " }}"), "101")
    }

    func testDeepBlockNestingIsASyntaxErrorNotACrash() {
        let deep = String(repeating: "{% if true %}", count: 5000) + "x" + String(repeating: "{% endif %}", count: 5000)
        XCTAssertThrowsError(try ChatTemplate(source: deep)) { error in
            guard case .syntax? = error as? ChatTemplateError else { return XCTFail("\(error)") }
        }
        let fine = String(repeating: "{% if true %}", count: 50) + "x" + String(repeating: "{% endif %}", count: 50)
        XCTAssertEqual(try render(fine), "x")
    }

    func testSyntaxErrorLineAndColumn() {
        XCTAssertThrowsError(try ChatTemplate(source: "ok\n  {{ 1 + }}")) { error in
            // The '}}' that ends the tag too early sits on line 2, column 10.
            XCTAssertEqual(error as? ChatTemplateError, .syntax(line: 2, column: 10, message: "unexpected end of tag"))
        }
        XCTAssertThrowsError(try ChatTemplate(source: "a\nb\n{% if x %}\n{% endfor %}")) { error in
            guard case let .syntax(line, column, message)? = error as? ChatTemplateError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 4)
            XCTAssertEqual(column, 4)
            XCTAssertTrue(message.contains("endfor"), message)
        }
        XCTAssertThrowsError(try ChatTemplate(source: "héllo {{ x | nofilter }}")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .syntax(line: 1, column: 12, message: "no filter named 'nofilter'"))
        }
    }

    func testRaiseExceptionSurfacesMessage() {
        XCTAssertThrowsError(try render("{{ raise_exception('Only user and assistant roles are supported!') }}")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .raised("Only user and assistant roles are supported!"))
            XCTAssertTrue("\(error)".contains("Only user and assistant roles are supported!"))
        }
    }

    func testRuntimeErrorNamesLine() {
        XCTAssertThrowsError(try render("a\n\n{{ missing.attr }}")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .runtime("template:3:11: 'missing' is undefined"))
        }
    }

    func testPythonFloatRepr() {
        // Expected strings are Python 3's repr() of the same doubles.
        let cases: [(Double, String)] = [(1.0, "1.0"), (0.1, "0.1"), (1e16, "1e+16"), (1e15, "1000000000000000.0"),
                                         (1.5e-5, "1.5e-05"), (0.0001, "0.0001"), (123456.789, "123456.789"),
                                         (2.5e20, "2.5e+20"), (-3.0, "-3.0"), (1e-7, "1e-07"),
                                         (12345678901234567.0, "1.2345678901234568e+16"), (100.0, "100.0"), (1e22, "1e+22")]
        for (d, expected) in cases { XCTAssertEqual(pythonFloatRepr(d), expected, "\(d)") }
    }

    func testJSONDecodingKeepsKeyOrder() throws {
        let v = try JinjaValue(json: Data(#"{"z": 1, "a": [true, null, 2.5, "\u00e9\ud83d\ude42"], "m": {}}"#.utf8))
        XCTAssertEqual(v, .object([("z", 1), ("a", [true, nil, 2.5, "é🙂"]), ("m", .object([]))]))
        XCTAssertThrowsError(try JinjaValue(json: Data("{\"a\": }".utf8)))
        let rendered = try ChatTemplate(source: "{{ v | tojson }}").render(context: ["v": v])
        XCTAssertEqual(rendered, #"{"z": 1, "a": [true, null, 2.5, "é🙂"], "m": {}}"#)
    }
}

extension LimitsAndErrorsTests {
    /// Values nested once per loop iteration must not overflow the stack when printed or released.
    func testDeeplyNestedValuesAreBounded() throws {
        let limits = ChatTemplate.Limits(maxNestingDepth: 256)
        assertLimit("{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}",
                    limits: limits)
        assertLimit("{% set ns = namespace(x=1) %}{% for i in range(100000) %}{% set ns.x = namespace(v=ns.x) %}{% endfor %}",
                    limits: limits)
        assertLimit("{% set ns = namespace(x=[1]) %}{% for i in range(100000) %}{% set ns.x = ns.x | batch(1) | list %}{% endfor %}",
                    limits: limits)
        // Nesting within the limit is fine, and a namespace holding itself is not mistaken for deep nesting.
        XCTAssertEqual(try render("{% set ns = namespace(x=[]) %}{% for i in range(100) %}{% set ns.x = [ns.x] %}{% endfor %}"
            + "{% set ns.me = ns %}{{ ns.x | length }}", limits: limits), "1")
    }
}
