// Robustness: ~70 real templates from llama.cpp's collection must render exactly as transformers renders them.
import Foundation
import XCTest
@testable import TailorChat

final class TemplateCorpusTests: XCTestCase {
    func testCorpusMatchesTransformers() throws {
        let fixture = try Fixtures.json("template_corpus.json")
        let clock = Date(timeIntervalSince1970: TimeInterval(fixture["generator"]?["clock"]?.intValue ?? 0))
        let conversations = Dictionary(uniqueKeysWithValues: fixture["conversations"]?.objectPairs ?? [])
        var templates: [String: ChatTemplate] = [:]
        var failures: [String] = []
        var passed = 0
        let cases = fixture["cases"]?.arrayValue ?? []
        XCTAssertGreaterThan(cases.count, 300)
        for c in cases {
            let file = c["template"]?.stringValue ?? ""
            let conversationName = c["conversation"]?.stringValue ?? ""
            let gen = c["add_generation_prompt"]?.boolValue ?? false
            let label = "\(file)/\(conversationName)/gen=\(gen)"
            do {
                if templates[file] == nil {
                    var t = try ChatTemplate(source: fixture["templates"]?[file]?.stringValue ?? "")
                    t.clock = clock
                    templates[file] = t
                }
                guard let template = templates[file] else { continue }
                let conversation = conversations[conversationName] ?? .none
                let tools = conversation["tools"].flatMap { $0 == .none ? nil : $0.arrayValue }
                let out = try template.render(messages: conversation["messages"]?.arrayValue ?? [], addGenerationPrompt: gen,
                                              bosToken: "<s>", eosToken: "</s>", tools: tools)
                if let expected = c["expected"]?.stringValue, expected == out {
                    passed += 1
                } else {
                    failures.append("\(label): got \(out.prefix(300).debugDescription) expected "
                        + (c["expected"]?.stringValue.map { String($0.prefix(300)).debugDescription } ?? "error \(c["message"] ?? .none)"))
                }
            } catch let error as ChatTemplateError {
                switch (c["error"]?.stringValue, error) {
                case let ("raised"?, .raised(message)) where message == c["message"]?.stringValue: passed += 1
                case ("undefined"?, .runtime), ("other"?, .runtime), ("template"?, .runtime): passed += 1
                default: failures.append("\(label): threw \(error); transformers: \(c["error"]?.stringValue ?? "rendered")")
                }
            }
        }
        print("TemplateCorpusTests: \(passed)/\(cases.count) cases over \(templates.count) templates pass")
        XCTAssertEqual(failures.count, 0, failures.prefix(8).joined(separator: "\n----\n"))
    }
}
