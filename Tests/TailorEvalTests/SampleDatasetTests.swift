// The committed sample task (data/dates, written by tools/data/make_sample_task.py) is well formed: every row parses
// as `tailor eval` reads it, every answer is the ISO form of the date in its prompt (checked by a parser written
// here, not by the generator), and no held-out row or date appears in the training rows.
import Foundation
import TailorEval
import XCTest

final class SampleDatasetTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data/dates")

    static let months = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                         "october", "november", "december"]

    /// "March 5, 2024", "5 March 2024", "Mar 5, 2024", "the 5th of March, 2024" → "2024-03-05"; nil for anything else
    /// or an impossible date.
    static func isoDate(_ text: String) -> String? {
        var day: Int?, month: Int?, year: Int?
        for word in text.lowercased().replacingOccurrences(of: ",", with: " ").split(separator: " ") {
            if word == "the" || word == "of" { continue }
            if let m = months.firstIndex(where: { $0 == word || (word.count == 3 && $0.hasPrefix(word)) }) {
                guard month == nil else { return nil }
                month = m + 1
            } else if word.count == 4, let y = Int(word) {
                guard year == nil else { return nil }
                year = y
            } else if let d = Int(word.hasSuffix("st") || word.hasSuffix("nd") || word.hasSuffix("rd") || word.hasSuffix("th")
                                  ? String(word.dropLast(2)) : String(word)) {
                guard day == nil else { return nil }
                day = d
            } else {
                return nil
            }
        }
        guard let day, let month, let year else { return nil }
        // Round-trip through the Gregorian calendar rejects 31 April or 29 February of a common year.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)) else { return nil }
        let back = calendar.dateComponents([.year, .month, .day], from: date)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    func testParserOfTheCheck() {
        XCTAssertEqual(Self.isoDate("March 5, 2024"), "2024-03-05")
        XCTAssertEqual(Self.isoDate("5 March 2024"), "2024-03-05")
        XCTAssertEqual(Self.isoDate("Dec 28, 1989"), "1989-12-28")
        XCTAssertEqual(Self.isoDate("the 22nd of February, 1909"), "1909-02-22")
        XCTAssertNil(Self.isoDate("31 April 2020"))
        XCTAssertNil(Self.isoDate("29 February 1900"))
        XCTAssertNil(Self.isoDate("March 2024"))
    }

    func testCommittedRowsParseAndCarryTheirCheckableAnswer() throws {
        let train = try EvalDataset.readExamples(Self.folder.appendingPathComponent("train.jsonl"))
        let held = try EvalDataset.readExamples(Self.folder.appendingPathComponent("eval.jsonl"))
        XCTAssertTrue((200...1000).contains(train.count), "train: \(train.count) rows")
        XCTAssertTrue((40...200).contains(held.count), "eval: \(held.count) rows")
        for (name, rows) in [("train", train), ("eval", held)] {
            for row in rows {
                XCTAssertEqual(row.messages.map(\.role), ["system", "user"], "\(name):\(row.line)")
                XCTAssertEqual(row.references.count, 1, "\(name):\(row.line)")
                let expected = Self.isoDate(row.promptText)
                XCTAssertNotNil(expected, "\(name):\(row.line): '\(row.promptText)' is not a date in words")
                XCTAssertEqual(row.references.first, expected, "\(name):\(row.line): '\(row.promptText)'")
            }
        }
        // Held out: neither the prompt nor the date itself occurs among the training rows.
        let trainPrompts = Set(train.map(\.promptText)), trainDates = Set(train.compactMap(\.references.first))
        for row in held {
            XCTAssertFalse(trainPrompts.contains(row.promptText), "eval:\(row.line) also in train.jsonl")
            XCTAssertFalse(trainDates.contains(row.references.first ?? ""), "eval:\(row.line): date also in train.jsonl")
        }
        XCTAssertEqual(Set(held.map(\.promptText)).count, held.count, "eval.jsonl repeats a prompt")
    }
}
