// Property-based tests (x-sheep/swift-property-based generators, driven by a seeded Xoshiro inside XCTest so they run
// with the rest of the suite): random templates, JSON, recipes and data rows end in a value or a typed error and
// never trap; template integer arithmetic agrees with Python's wherever the result fits.
import Foundation
import PropertyBased
import XCTest
@testable import TailorChat
@testable import TailorData
@testable import TailorTraining

final class HostileInputProperties: XCTestCase {
    /// Fixed seed: a failure reproduces; change it locally to explore further.
    private var rng = Xoshiro(seed: (0x7A11, 0x0F, 0x15, 0x2026))
    private let cases = 400

    /// Integers biased towards the edges, where overflow lives.
    private var edgeInt: Generator<Int, some SendableSequenceType> {
        Gen.oneOf(Gen.int(in: -3...3), Gen.int(in: .min ... .max),
                  Gen.element(of: [Int.min, Int.min + 1, Int.max, Int.max - 1, 1 << 62, -(1 << 62), 1 << 31]).map { $0 ?? 0 })
    }

    /// A literal the template lexer reads back as `value` (it has no negative literals).
    private func literal(_ value: Int) -> String {
        value == .min ? "(-9223372036854775807 - 1)" : value < 0 ? "(-\(-value))" : "\(value)"
    }

    /// Python's result for `a op b` when it fits an Int, nil when Python's exact integer would not.
    private func python(_ op: String, _ a: Int, _ b: Int) -> Int?? {
        func fit(_ r: (partialValue: Int, overflow: Bool)) -> Int?? { r.overflow ? .some(nil) : .some(r.partialValue) }
        switch op {
        case "+": return fit(a.addingReportingOverflow(b))
        case "-": return fit(a.subtractingReportingOverflow(b))
        case "*": return fit(a.multipliedReportingOverflow(by: b))
        case "//", "%":
            guard b != 0 else { return nil }   // ZeroDivisionError
            if a == .min && b == -1 { return op == "%" ? 0 : .some(nil) }
            var q = a / b, r = a % b
            if r != 0 && (r < 0) != (b < 0) { q -= 1; r += b }
            return op == "//" ? q : r
        default: return nil
        }
    }

    func testIntegerArithmeticMatchesPythonOrNamesTheOverflow() throws {
        let ops = ["+", "-", "*", "//", "%"]
        var computed = 0, overflowed = 0
        for _ in 0..<cases {
            let a = edgeInt.run(using: &rng), b = edgeInt.run(using: &rng)
            let op = ops[Gen.int(in: 0...(ops.count - 1)).run(using: &rng)]
            let source = "{{ \(literal(a)) \(op) \(literal(b)) }}"
            let expected = python(op, a, b)
            do {
                let out = try ChatTemplate(source: source).render(context: [:])
                guard case let .some(.some(value)) = expected else { return XCTFail("\(source) gave \(out), expected an error") }
                XCTAssertEqual(out, String(value), source)
                computed += 1
            } catch let error as ChatTemplateError {
                switch (error, expected) {
                case (.limitExceeded(let m), .some(.none)):
                    XCTAssertTrue(m.contains("integer overflow"), m)
                    overflowed += 1
                case (.runtime(let m), .none): XCTAssertTrue(m.contains("by zero"), m)
                default: XCTFail("\(source): \(error), expected \(String(describing: expected))")
                }
            }
        }
        // The generator must reach both sides of the boundary, or the property says little.
        XCTAssertGreaterThan(computed, cases / 10)
        XCTAssertGreaterThan(overflowed, cases / 10)
    }

    func testFiltersWithHostileArgumentsNeverTrap() {
        let filters = ["center(%d)", "indent(%d)", "truncate(%d)", "batch(%d) | list", "round(%d)", "int", "abs",
                       "tojson(indent=%d)", "join('%s' * %d)", "replace('a', 'bb', %d)", "list | length", "wordcount"]
        let texts = Gen<Character>.letterOrNumber.string(of: 0...20)
        var rendered = 0, refused = 0
        for _ in 0..<cases {
            let n = edgeInt.run(using: &rng) % 100_000_000_000
            let filter = filters[Gen.int(in: 0...(filters.count - 1)).run(using: &rng)]
                .replacingOccurrences(of: "%d", with: literal(n)).replacingOccurrences(of: "%s", with: "x")
            let text = texts.run(using: &rng)
            let source = "{{ '\(text)\\n\(text)' | \(filter) }}{{ range(\(literal(n)), \(literal(n / 3)), \(literal(n / 7 == 0 ? 1 : n / 7))) | length }}"
            do {
                _ = try ChatTemplate(source: source, limits: .init(maxOutputBytes: 1 << 20)).render(context: [:])
                rendered += 1
            } catch is ChatTemplateError {
                refused += 1   // a named error is the right outcome for many of these
            } catch {
                XCTFail("\(source): \(error)")
            }
        }
        XCTAssertGreaterThan(rendered, cases / 10)
        XCTAssertGreaterThan(refused, cases / 10)
    }

    func testRandomTemplatesParseAndRenderOrFailNamed() {
        let pieces = ["{{", "}}", "{%", "%}", "for", "in", "if", "endif", "endfor", "set", "x", "=", "range(", ")", "[", "]",
                      "*", "+", "~", "|", "list", "tojson", "'a'", "1000000", "-", "(", ",", "ns.l", "namespace(", "l=[]",
                      "loop.index", "else", "macro", "endmacro", "m(", "caller()", "x.split(", "'.'", ".", "9223372036854775807"]
        let template = Gen.element(of: pieces).map { $0 ?? "" }.array(of: 1...40)
        for _ in 0..<cases {
            let source = template.run(using: &rng).joined(separator: " ")
            do {
                _ = try ChatTemplate(source: source, limits: .init(maxOutputBytes: 1 << 20, maxSteps: 1_000_000)).render(context: ["x": .string("a.b.c")])
            } catch is ChatTemplateError {
                continue
            } catch {
                XCTFail("\(source): \(error)")
            }
        }
    }

    /// Valid JSON rows with random bytes changed, inserted or cut: the JSON and JSONL readers return or throw.
    func testMutatedJSONIsReadOrRefused() throws {
        let seedRows = Data(#"""
        {"messages": [{"role": "user", "content": "hi \u00e9"}, {"role": "assistant", "content": "ok"}]}
        {"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}
        {"text": "a\tb", "n": 1e308, "m": -0.0, "z": [true, false, null, {"k": "v"}]}
        """#.utf8)
        let bytes = Gen<UInt8>.value(in: 0...255)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("property-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        for _ in 0..<cases {
            var data = [UInt8](seedRows)
            for _ in 0..<Gen.int(in: 1...6).run(using: &rng) {
                let at = Gen.int(in: 0...(data.count - 1)).run(using: &rng)
                switch Gen.int(in: 0...2).run(using: &rng) {
                case 0: data[at] = bytes.run(using: &rng)
                case 1: data.insert(bytes.run(using: &rng), at: at)
                default: data.removeSubrange(at..<min(data.count, at + Gen.int(in: 1...20).run(using: &rng)))
                }
                if data.isEmpty { data = [0x7B] }
            }
            _ = try? JinjaValue(json: Data(data))
            _ = try? DataReader.read(data: Data(data), path: "mutated.jsonl", skipMalformed: Gen.int(in: 0...1).run(using: &rng) == 1)
            try Data(data).write(to: url)
            do { _ = try TrainingData.readJSONL(url, tokenize: nil) } catch is TrainingError {}
        }
    }

    /// Random recipe values for random keys: a configuration or an error naming the key, never a trap.
    func testRandomHyperparametersAreValidatedWithTheirKey() {
        let keys = TrainingConfiguration.keys
        let values: [Any] = [Int.max, Int.min, -1, 0, 1, 8, 65_537, 0.5, -0.5, 1e300, Double.nan, -Double.infinity, "x", "", true,
                             false, "nf4", "cosine", "lora", [1], ["a": 1]]
        for _ in 0..<cases {
            var recipe: [String: Any] = [:]
            for _ in 0..<Gen.int(in: 1...4).run(using: &rng) {
                recipe[keys[Gen.int(in: 0...(keys.count - 1)).run(using: &rng)]] = values[Gen.int(in: 0...(values.count - 1)).run(using: &rng)]
            }
            do {
                let c = try TrainingConfiguration.decode(values: recipe)
                XCTAssertNoThrow(try c.validate())
            } catch let TrainingError.invalidConfiguration(key, _) {
                XCTAssertTrue(recipe.keys.contains(key) || key == "epochs", "error names \(key), not one of \(recipe.keys)")
            } catch {
                XCTFail("\(recipe): \(error)")
            }
        }
    }

    /// Random YAML-ish text: the recipe bounds either pass or name a line; never trap.
    func testRecipeBoundsOnRandomText() {
        let pieces = ["[", "]", "{", "}", "*a", "&a", "- ", "  ", ":", "\n", "'", "\"", "#", "x", ",", "lora_r: 8"]
        let text = Gen.element(of: pieces).map { $0 ?? "" }.array(of: 0...400)
        for _ in 0..<cases {
            let recipe = text.run(using: &rng).joined()
            do { try RecipeBounds.check(recipe, file: "r.yaml") } catch let TrainingError.malformedData(file, _, _) {
                XCTAssertEqual(file, "r.yaml")
            } catch {
                XCTFail("\(error)")
            }
        }
    }
}
