// Reads evaluation data: JSONL rows of prompts and references, texts for the loss, or multiple-choice questions.
//
// Prompt rows: "prompt" or "input" (a user message; an optional "system" string is put first), or "messages" (a chat
// list; a final assistant message is the reference when no reference field is given). Reference: "reference",
// "output", "label" or "answer" (a string), or "references" (a list of strings).
// Loss rows: "text". Multiple-choice rows (MMLU layout): "question", "choices" (list of strings), "answer" (0-based
// index, or a letter "A", "B", …), optional "subject".
import Foundation
import TailorText
import TailorChat

/// One prompt with the reference answer(s).
public struct EvalExample: Sendable, Equatable {
    /// 1-based line in the data file.
    public var line: Int
    /// The conversation sent to the chat template (ends with a user message).
    public var messages: [ChatMessage]
    /// Accepted answers (at least one).
    public var references: [String]

    public init(line: Int, messages: [ChatMessage], references: [String]) {
        self.line = line
        self.messages = messages
        self.references = references
    }

    /// The last user message, for reports.
    public var promptText: String { messages.last { $0.role == "user" }?.content ?? messages.last?.content ?? "" }
}

/// One multiple-choice question.
public struct MultipleChoiceQuestion: Sendable, Equatable, Codable {
    /// 1-based line in the data file.
    public var line: Int
    public var question: String
    /// The possible answers, in file order.
    public var choices: [String]
    /// 0-based index of the right choice.
    public var answer: Int
    /// MMLU's subject (or any grouping), when given.
    public var subject: String?

    public init(line: Int, question: String, choices: [String], answer: Int, subject: String? = nil) {
        self.line = line
        self.question = question
        self.choices = choices
        self.answer = answer
        self.subject = subject
    }
}

/// Readers for the three row layouts.
public enum EvalDataset {
    /// Prompt/reference rows for the generating tasks.
    /// - Throws: ``EvalError`` naming the file and line of a bad row.
    public static func readExamples(_ url: URL) throws -> [EvalExample] {
        try rows(url).map { line, row in
            var messages: [ChatMessage]
            var references = referenceTexts(row)
            if let list = row["messages"]?.arrayValue {
                messages = try list.map { item in
                    guard let role = item["role"]?.stringValue, let content = item["content"]?.stringValue else {
                        throw EvalError.missingField(path: url.path, line: line,
                                                     expected: "\"messages\" as a list of {\"role\": ..., \"content\": ...}")
                    }
                    return ChatMessage(role: role, content: content)
                }
                if references == nil, let last = messages.last, last.role == "assistant" {
                    references = [last.content]
                    messages.removeLast()
                }
                guard !messages.isEmpty else {
                    throw EvalError.missingField(path: url.path, line: line, expected: "at least one prompt message")
                }
            } else if let prompt = (row["prompt"] ?? row["input"])?.stringValue {
                messages = [ChatMessage(role: "user", content: prompt)]
                if let system = row["system"]?.stringValue { messages.insert(ChatMessage(role: "system", content: system), at: 0) }
            } else {
                throw EvalError.missingField(path: url.path, line: line,
                                             expected: "\"prompt\" or \"input\" (a string) or \"messages\" (a list)")
            }
            guard let references, !references.isEmpty else {
                throw EvalError.missingField(
                    path: url.path, line: line,
                    expected: "\"reference\", \"output\", \"label\" or \"answer\" (a string) or \"references\" (a list of strings)")
            }
            return EvalExample(line: line, messages: messages, references: references)
        }
    }

    /// "text" rows for the loss task.
    public static func readTexts(_ url: URL) throws -> [(line: Int, text: String)] {
        try rows(url).map { line, row in
            guard let text = row["text"]?.stringValue else {
                throw EvalError.missingField(path: url.path, line: line, expected: "\"text\" (a string)")
            }
            return (line, text)
        }
    }

    /// MMLU-layout multiple-choice rows.
    public static func readMultipleChoice(_ url: URL) throws -> [MultipleChoiceQuestion] {
        try rows(url).map { line, row in
            guard let question = row["question"]?.stringValue else {
                throw EvalError.missingField(path: url.path, line: line, expected: "\"question\" (a string)")
            }
            guard let list = row["choices"]?.arrayValue else {
                throw EvalError.missingField(path: url.path, line: line, expected: "\"choices\" (a list of strings)")
            }
            let choices = try list.map { item -> String in
                guard let text = item.stringValue, !text.isEmpty else {
                    throw EvalError.badChoices(path: url.path, line: line, detail: "every choice must be a non-empty string")
                }
                return text
            }
            guard choices.count >= 2 else {
                throw EvalError.badChoices(path: url.path, line: line, detail: "\(choices.count) choice(s); need at least 2")
            }
            let answer: Int
            if let number = row["answer"]?.intValue {
                answer = number
            } else if let letter = row["answer"]?.stringValue, letter.count == 1, let scalar = letter.uppercased().unicodeScalars.first,
                      scalar.value >= 65, scalar.value <= 90 {
                answer = Int(scalar.value) - 65
            } else {
                throw EvalError.missingField(path: url.path, line: line,
                                             expected: "\"answer\" (a 0-based index or a letter A, B, …)")
            }
            guard answer >= 0, answer < choices.count else {
                throw EvalError.answerOutOfRange(path: url.path, line: line, answer: answer, choiceCount: choices.count)
            }
            return MultipleChoiceQuestion(line: line, question: question, choices: choices, answer: answer,
                                          subject: row["subject"]?.stringValue)
        }
    }

    /// Non-empty lines parsed as JSON objects (TailorText's JSON Lines reader), with their 1-based line numbers.
    static func rows(_ url: URL) throws -> [(Int, JSONObject)] {
        guard let data = FileManager.default.contents(atPath: url.path),
              String(data: data, encoding: .utf8) != nil else { throw EvalError.unreadableFile(path: url.path) }
        let rows: [(line: Int, object: JSONObject)]
        do throws(JSONLinesError) { rows = try JSONLines.objects(Array(data), file: url.path) } catch {
            throw EvalError.invalidJSON(path: url.path, line: error.line, detail: error.reason)
        }
        guard !rows.isEmpty else { throw EvalError.emptyData(path: url.path) }
        return rows.map { ($0.line, $0.object) }
    }

    /// The reference strings of a row, or nil when it has none.
    static func referenceTexts(_ row: JSONObject) -> [String]? {
        if let list = row["references"]?.arrayValue {
            let texts = list.compactMap(\.stringValue)
            if texts.count == list.count { return texts }
        }
        for key in ["reference", "output", "label", "answer"] {
            switch row[key] {
            case .string(let text): return [text]
            // Numbers and booleans as labels ("label": 1) become their text (as Python's str() writes them).
            case .int(let number): return [String(number)]
            case .double(let number): return [pythonFloatRepr(number)]
            case .bool(let flag): return [flag ? "True" : "False"]
            default: continue
            }
        }
        return nil
    }
}
