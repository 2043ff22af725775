// Turns merged recipe and flag values into a validated configuration, with errors that name the key, what it
// expects, the value given and where it came from ("lora_r: expected an integer, got 8.5 (recipe.yaml:3)").
import Foundation
import TailorFormats

extension TrainingConfiguration {
    /// Decodes `values` (recipe keys and flags already merged, flags winning) and validates the result.
    ///
    /// - Parameter origins: where each key's value came from (`recipe.yaml:3`, `--lora-r`), added to errors.
    /// - Throws: `TrainingError.invalidConfiguration` naming the key for a wrong type, a non-finite number, a list or
    ///   mapping where one value belongs, or a value out of range.
    public static func decode(values: [String: Any], origins: [String: String] = [:]) throws -> TrainingConfiguration {
        func fail(_ key: String, _ message: String) -> TrainingError {
            .invalidConfiguration(key: key, message: message + (origins[key].map { " (\($0))" } ?? ""))
        }
        // JSONSerialization cannot write NaN or infinity, and nested values are never valid: check them first.
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            if let number = value as? Double, !number.isFinite { throw fail(key, "expected a finite number, got \(number)") }
            if value is [Any] || value is [String: Any] { throw fail(key, "expected a single value, got \(describe(value))") }
        }
        let configuration: TrainingConfiguration
        do {
            configuration = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: values))
        } catch {
            // Foundation does not always say which key failed (8.5 for an Int fails the whole document): find the
            // first key that does not decode alone.
            for (key, value) in values.sorted(by: { $0.key < $1.key }) where !decodes(key, value) {
                throw fail(key, "expected \(expectedKind(of: key)), got \(describe(value))")
            }
            throw TrainingError.invalidConfiguration(key: "configuration", message: "\(error)")
        }
        do { try configuration.validate() } catch let TrainingError.invalidConfiguration(key, message) {
            throw fail(key, message)
        }
        return configuration
    }

    /// What `key` accepts, found by decoding probe values (so it follows the declarations, with no second table).
    static func expectedKind(of key: String) -> String {
        func decodes(_ probe: Any) -> Bool { Self.decodes(key, probe) }
        if decodes(1.5) { return "a number" }
        if decodes(-1) { return "an integer" }
        if decodes(1) { return "a non-negative integer" }
        if decodes(true) { return "true or false" }
        if decodes("\u{1}") { return "a string" }
        switch key {
        case "method": return "one of " + TrainingMethod.allCases.map(\.rawValue).joined(separator: ", ")
        default: return "one of the values listed in `tailor train --help`"
        }
    }

    /// Whether `{key: value}` alone decodes.
    private static func decodes(_ key: String, _ value: Any) -> Bool {
        guard let data = try? JSONSerialization.data(withJSONObject: [key: value]) else { return false }
        return (try? JSONDecoder().decode(TrainingConfiguration.self, from: data)) != nil
    }

    private static func describe(_ value: Any) -> String {
        switch value {
        case let s as String: return "\"\(s)\""
        case is [Any]: return "a list"
        case is [String: Any]: return "a mapping"
        default: return "\(value)"
        }
    }
}
