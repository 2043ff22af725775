// Memory sizes: parsing "24GB" / "24GiB" / "512 MiB" and printing bytes for people.
import Foundation

/// A number of bytes. Parses decimal (`kB`, `MB`, `GB`, `TB`: powers of 1000) and binary (`KiB`, `MiB`, `GiB`,
/// `TiB`: powers of 1024) units, case-insensitively; a bare number is bytes, `"24G"` means GB.
public struct ByteSize: Codable, Sendable, Equatable, Comparable, CustomStringConvertible {
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }
    public init(gib: Double) { bytes = Int((gib * 1_073_741_824).rounded()) }
    public init(gb: Double) { bytes = Int((gb * 1e9).rounded()) }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }

    /// Parses `"24GB"`, `"24 GiB"`, `"1.5TB"`, `"80g"`, `"1048576"`; throws `PlanError.invalidSize` otherwise.
    public static func parse(_ text: String, field: String = "memory") throws -> ByteSize {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let numberEnd = trimmed.firstIndex { !($0.isNumber || $0 == ".") } ?? trimmed.endIndex
        let number = String(trimmed[..<numberEnd])
        let unit = trimmed[numberEnd...].trimmingCharacters(in: .whitespaces).lowercased()
        let hint = "use a number with a unit such as 24GB, 24GiB, 512MiB"
        guard let value = Double(number), value.isFinite, value >= 0 else {
            throw PlanError.invalidSize(field: field, text: text, hint: hint)
        }
        let scale: Double
        switch unit {
        case "", "b": scale = 1
        case "k", "kb": scale = 1e3
        case "m", "mb": scale = 1e6
        case "g", "gb": scale = 1e9
        case "t", "tb": scale = 1e12
        case "kib", "ki": scale = 1024
        case "mib", "mi": scale = 1_048_576
        case "gib", "gi": scale = 1_073_741_824
        case "tib", "ti": scale = 1_099_511_627_776
        default: throw PlanError.invalidSize(field: field, text: text, hint: "unknown unit '\(unit)'; " + hint)
        }
        let bytes = value * scale
        guard bytes < 9e18 else { throw PlanError.invalidSize(field: field, text: text, hint: "too large") }
        return ByteSize(bytes: Int(bytes.rounded()))
    }

    /// Binary units with two decimals, e.g. `"13.45 GiB"`, `"512.00 MiB"`.
    public var description: String { ByteSize.format(bytes) }

    /// `bytes` in the largest binary unit that keeps the number ≥ 1, two decimals.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while abs(value) >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        return index == 0 ? "\(bytes) B" : String(format: "%.2f", value) + " " + units[index]
    }
}
