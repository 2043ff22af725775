// Reading texts for commands: JSONL rows with a named string field, or plain text.
import ArgumentParser
import Foundation

/// Texts of `path`: the `field` of each JSONL row (a `.jsonl` file), otherwise each non-empty line
/// (`linesAreTexts`) or the whole file as one text.
func readTexts(_ path: String, field: String, linesAreTexts: Bool) throws -> [String] {
    guard let data = FileManager.default.contents(atPath: path), let content = String(data: data, encoding: .utf8) else {
        throw ValidationError("\(path): cannot read the file as UTF-8 text")
    }
    guard path.hasSuffix(".jsonl") else {
        return linesAreTexts ? content.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            : [content]
    }
    return try content.split(separator: "\n", omittingEmptySubsequences: true).enumerated().map { index, line in
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let text = object[field] as? String else {
            throw ValidationError("\(path):\(index + 1): expected a JSON object with a \"\(field)\" string")
        }
        return text
    }
}
