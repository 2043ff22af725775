// Jinja feature cases: every expected string and error comes from transformers' jinja2 environment.
import Foundation
import XCTest
@testable import TailorChat

final class JinjaCaseTests: XCTestCase {
    func testFeatureCasesMatchJinja2() throws {
        let cases = try Fixtures.json("jinja_cases.json")["cases"]?.arrayValue ?? []
        XCTAssertGreaterThan(cases.count, 80)
        var failures: [String] = []
        var passed = 0
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let source = c["template"]?.stringValue ?? ""
            var context = Dictionary(uniqueKeysWithValues: c["context"]?.objectPairs ?? [])
            let clock = context.removeValue(forKey: "clock")?.intValue
            let kind = c["error"]?.stringValue
            do {
                var template = try ChatTemplate(source: source)
                if let clock { template.clock = Date(timeIntervalSince1970: TimeInterval(clock)) }
                let out = try template.render(context: context)
                if let expected = c["expected"]?.stringValue, out == expected { passed += 1; continue }
                failures.append("\(name): got \(out.debugDescription) expected \(c["expected"]?.stringValue?.debugDescription ?? "error \(kind ?? "")")")
            } catch let error as ChatTemplateError {
                switch (kind, error) {
                case let ("syntax"?, .syntax(line, _, _)):
                    if line == c["line"]?.intValue { passed += 1 } else { failures.append("\(name): line \(line) vs jinja2 \(c["line"]?.intValue ?? -1)") }
                case let ("raised"?, .raised(message)):
                    if message == c["message"]?.stringValue { passed += 1 } else { failures.append("\(name): message \(message)") }
                case ("undefined"?, .runtime), ("runtime"?, .runtime), ("template"?, .runtime):
                    passed += 1
                default:
                    failures.append("\(name): threw \(error); jinja2 gave \(kind ?? "output")")
                }
            }
        }
        print("JinjaCaseTests: \(passed)/\(cases.count) jinja2 feature cases pass")
        XCTAssertEqual(failures, [])
    }
}
