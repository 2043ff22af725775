// Data files: the accepted layouts, and named errors with line numbers for bad rows.
import Foundation
import TailorEval
import XCTest

final class EvalDatasetTests: XCTestCase {
    func testPromptRowsMessagesAndReferences() throws {
        let url = try Fixtures.temporary("""
        {"prompt": "Is it good?", "label": "positive"}

        {"input": "2+2?", "output": "4", "system": "Be brief."}
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
        {"prompt": "Which?", "references": ["a", "b"]}
        {"prompt": "Number label", "label": 1}
        """)
        let rows = try EvalDataset.readExamples(url)
        XCTAssertEqual(rows.map(\.line), [1, 3, 4, 5, 6])
        XCTAssertEqual(rows[0].references, ["positive"])
        XCTAssertEqual(rows[1].messages.map(\.role), ["system", "user"])
        XCTAssertEqual(rows[2].messages.map(\.content), ["Hi"])
        XCTAssertEqual(rows[2].references, ["Hello"])
        XCTAssertEqual(rows[3].references, ["a", "b"])
        XCTAssertEqual(rows[4].references, ["1"])
    }

    func testMissingFieldsNameTheLine() throws {
        let url = try Fixtures.temporary("{\"prompt\": \"a\", \"label\": \"x\"}\n{\"prompt\": \"b\"}\n")
        XCTAssertThrowsError(try EvalDataset.readExamples(url)) { error in
            XCTAssertEqual(error as? EvalError, .missingField(path: url.path, line: 2,
                expected: "\"reference\", \"output\", \"label\" or \"answer\" (a string) or \"references\" (a list of strings)"))
            XCTAssertTrue("\(error)".contains("\(url.path):2: missing field"), "\(error)")
        }
        let noPrompt = try Fixtures.temporary("{\"label\": \"x\"}\n")
        XCTAssertThrowsError(try EvalDataset.readExamples(noPrompt)) { error in
            XCTAssertTrue("\(error)".contains(":1: missing field: expected \"prompt\" or \"input\""), "\(error)")
        }
        let noText = try Fixtures.temporary("{\"text\": \"ok\"}\n{\"txt\": \"typo\"}\n")
        XCTAssertThrowsError(try EvalDataset.readTexts(noText)) { error in
            XCTAssertEqual(error as? EvalError, .missingField(path: noText.path, line: 2, expected: "\"text\" (a string)"))
        }
        let notJSON = try Fixtures.temporary("{\"text\": \"ok\"}\n[1, 2]\n")
        XCTAssertThrowsError(try EvalDataset.readTexts(notJSON)) { error in
            guard case .invalidJSON(_, let line, _) = error as? EvalError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 2)
        }
        let empty = try Fixtures.temporary("\n\n")
        XCTAssertThrowsError(try EvalDataset.readTexts(empty)) { XCTAssertEqual($0 as? EvalError, .emptyData(path: empty.path)) }
    }

    func testMultipleChoiceRowsAndErrors() throws {
        let url = try Fixtures.temporary("""
        {"question": "q1", "choices": ["a", "b", "c"], "answer": 2, "subject": "s"}
        {"question": "q2", "choices": ["a", "b"], "answer": "B"}
        """)
        let rows = try EvalDataset.readMultipleChoice(url)
        XCTAssertEqual(rows, [MultipleChoiceQuestion(line: 1, question: "q1", choices: ["a", "b", "c"], answer: 2, subject: "s"),
                              MultipleChoiceQuestion(line: 2, question: "q2", choices: ["a", "b"], answer: 1)])
        let outOfRange = try Fixtures.temporary("{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": 1}\n{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": 4}\n")
        XCTAssertThrowsError(try EvalDataset.readMultipleChoice(outOfRange)) { error in
            XCTAssertEqual(error as? EvalError, .answerOutOfRange(path: outOfRange.path, line: 2, answer: 4, choiceCount: 2))
            XCTAssertTrue("\(error)".contains(":2: answer 4 is out of range for 2 choices"), "\(error)")
        }
        let letter = try Fixtures.temporary("{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": \"D\"}\n")
        XCTAssertThrowsError(try EvalDataset.readMultipleChoice(letter)) {
            XCTAssertEqual($0 as? EvalError, .answerOutOfRange(path: letter.path, line: 1, answer: 3, choiceCount: 2))
        }
        let one = try Fixtures.temporary("{\"question\": \"q\", \"choices\": [\"a\"], \"answer\": 0}\n")
        XCTAssertThrowsError(try EvalDataset.readMultipleChoice(one)) { error in
            guard case .badChoices(_, 1, _) = error as? EvalError else { return XCTFail("\(error)") }
        }
        let noChoices = try Fixtures.temporary("{\"question\": \"q\", \"answer\": 0}\n")
        XCTAssertThrowsError(try EvalDataset.readMultipleChoice(noChoices)) {
            XCTAssertEqual($0 as? EvalError, .missingField(path: noChoices.path, line: 1, expected: "\"choices\" (a list of strings)"))
        }
    }

    func testUnknownTaskIsNamed() {
        XCTAssertThrowsError(try EvalTask.parse("mmlu")) { error in
            XCTAssertEqual(error as? EvalError, .unknownTask("mmlu"))
            XCTAssertTrue("\(error)".contains("classification, qa, generation, json, loss, multiple-choice"), "\(error)")
        }
        XCTAssertEqual(try EvalTask.parse("multiple-choice"), .multipleChoice)
    }

    /// The shipped set parses: 60 questions, 4 choices each, answers in range.
    func testShippedMultipleChoiceSetParses() throws {
        // The repository root is three levels above this file (symlinks resolved for out-of-tree dev packages).
        let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = repo.appendingPathComponent("data/eval/multiple-choice/basics.jsonl")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) not found") }
        let questions = try EvalDataset.readMultipleChoice(url)
        XCTAssertEqual(questions.count, 60)
        XCTAssertTrue(questions.allSatisfy { $0.choices.count == 4 })
        XCTAssertEqual(Set(questions.compactMap(\.subject)), ["arithmetic", "geography", "science", "units"])
    }
}
