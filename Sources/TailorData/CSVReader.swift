// CSV (RFC 4180) with a header row: quoted cells, doubled quotes, newlines inside quotes, CRLF line ends.
import Foundation
import TailorChat

enum CSVReader {
    /// Parses CSV bytes into records of string cells keyed by the header; the header's line is 1.
    ///
    /// Throws `DataError.unreadableCSV` for an unterminated quote, text after a closing quote, a duplicate or
    /// empty header, or a row whose cell count differs from the header's.
    static func records(_ bytes: [UInt8], path: String) throws -> [SourceRecord] {
        var rows: [(line: Int, cells: [String])] = []
        var cells: [String] = []
        var cell: [UInt8] = []
        var line = 1, rowLine = 1, i = 0
        var inQuotes = false, quoted = false, quoteLine = 1
        func endCell() {
            cells.append(String(decoding: cell, as: UTF8.self))
            cell.removeAll(keepingCapacity: true)
            quoted = false
        }
        func endRow() {
            endCell()
            if !(cells.count == 1 && cells[0].isEmpty) { rows.append((rowLine, cells)) }
            cells.removeAll()
        }
        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") { cell.append(b); i += 2; continue }
                    inQuotes = false
                    quoted = true
                } else {
                    if b == 0x0A { line += 1 }
                    cell.append(b)
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                guard cell.allSatisfy({ $0 == 0x20 }) && !quoted else {
                    throw DataError.unreadableCSV(path: path, line: line, message: "a quote inside an unquoted cell (hint: quote the cell and double inner quotes)")
                }
                cell.removeAll()
                inQuotes = true
                quoteLine = line
            case UInt8(ascii: ","): endCell()
            case 0x0D where i + 1 < bytes.count && bytes[i + 1] == 0x0A: break
            case 0x0A:
                endRow()
                line += 1
                rowLine = line
            default:
                if quoted && b != 0x20 {
                    throw DataError.unreadableCSV(path: path, line: line, message: "text after a closing quote")
                }
                if !quoted { cell.append(b) }
            }
            i += 1
        }
        if inQuotes {
            throw DataError.unreadableCSV(path: path, line: quoteLine, message: "a quoted cell is never closed")
        }
        if !cell.isEmpty || !cells.isEmpty || quoted { endRow() }
        guard let header = rows.first else { throw DataError.emptyFile(path: path) }
        let names = header.cells.map { $0.trimmingCharacters(in: .whitespaces) }
        if let blank = names.firstIndex(where: { $0.isEmpty }) {
            throw DataError.unreadableCSV(path: path, line: header.line, message: "header cell \(blank + 1) is empty")
        }
        guard Set(names).count == names.count else {
            throw DataError.unreadableCSV(path: path, line: header.line, message: "the header repeats a column name")
        }
        var records: [SourceRecord] = []
        for row in rows.dropFirst() {
            guard row.cells.count == names.count else {
                throw DataError.unreadableCSV(path: path, line: row.line,
                                              message: "\(row.cells.count) cells, but the header has \(names.count)")
            }
            records.append(SourceRecord(line: row.line, value: .object(zip(names, row.cells.map { JinjaValue.string($0) }).map { ($0, $1) })))
        }
        return records
    }
}
