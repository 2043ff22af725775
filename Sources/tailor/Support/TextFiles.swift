// Reading texts for commands: JSONL rows with a named string field, or plain text.
import ArgumentParser
import TailorText
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
    let rows: [(line: Int, object: JSONObject)]
    do throws(JSONLinesError) { rows = try JSONLines.objects(Array(content.utf8), file: path) } catch {
        throw ValidationError("\(error); each line must be a JSON object with a \"\(field)\" string")
    }
    return try rows.map { line, object in
        guard let text = object[field]?.stringValue else {
            throw ValidationError("\(path):\(line): expected a JSON object with a \"\(field)\" string")
        }
        return text
    }
}
