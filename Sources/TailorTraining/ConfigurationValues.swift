// Turns merged recipe and flag values into a validated configuration, with errors that name the key, what it
// expects, the value given and where it came from ("lora_r: expected an integer, got 8.5 (recipe.yaml:3)").
import Foundation

extension TrainingConfiguration {
    /// Decodes `values` (recipe keys and flags already merged, flags winning) and validates the result.
    ///
    /// - Parameters:
    ///   - values: recipe scalars (`Int`, `Double`, `Bool`, `String`) or flags' `FlagText`, by key.
    ///   - origins: where each key's value came from (`recipe.yaml:3`, `--lora-r`), added to errors.
    /// - Throws: `TrainingError.invalidConfiguration` naming the key for an unknown key, a wrong type, a non-finite
    ///   number, a list or mapping where one value belongs, or a value out of range.
    public static func decode(values: [String: Any], origins: [String: String] = [:]) throws -> TrainingConfiguration {
        func fail(_ key: String, _ message: String) -> TrainingError {
            .invalidConfiguration(key: key, message: message + (origins[key].map { " (\($0))" } ?? ""))
        }
        let declared = Dictionary(hyperparameters.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var configuration = TrainingConfiguration()
        for (key, raw) in values.sorted(by: { $0.key < $1.key }) {
            guard let parameter = declared[key] else {
                throw fail(key, "unknown hyperparameter; known: \(declared.keys.sorted().joined(separator: ", "))")
            }
            let value = (raw as? FlagText)?.asRecipeValue ?? raw
            if let number = value as? Double, !number.isFinite { throw fail(key, "expected a finite number, got \(number)") }
            if value is [Any] || value is [String: Any] { throw fail(key, "expected a single value, got \(Hyperparameter.describe(value))") }
            if let message = parameter.assign(&configuration, raw) { throw fail(key, message) }
        }
        do { try configuration.validate() } catch let TrainingError.invalidConfiguration(key, message) {
            throw fail(key, message)
        }
        return configuration
    }

    /// Flags given as `--key value` or `--key=value` (the key in kebab case) → values for `decode(values:origins:)`,
    /// with each flag as its origin; a flag given twice keeps its last value, as other options do.
    ///
    /// - Throws: `TrainingError.invalidConfiguration` for an argument that is not a known hyperparameter flag
    ///   (with the closest flags), or a flag without a value.
    public static func flagValues(_ arguments: [String]) throws -> (values: [String: Any], origins: [String: String]) {
        let keysByFlag = Dictionary(keys.map { (Hyperparameter.flag(forKey: $0), $0) }, uniquingKeysWith: { first, _ in first })
        var values: [String: Any] = [:], origins: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let (flag, inline) = argument.firstIndex(of: "=").map { (String(argument[..<$0]), Optional(String(argument[argument.index(after: $0)...]))) }
                ?? (argument, nil)
            guard flag.hasPrefix("--") else {
                throw TrainingError.invalidConfiguration(key: flag, message: "unexpected argument; hyperparameters are given as --key value")
            }
            guard let key = keysByFlag[flag] else {
                let hint = closestFlags(to: flag, among: keysByFlag.keys)
                throw TrainingError.invalidConfiguration(
                    key: flag, message: "unknown option" + (hint.isEmpty ? "; see `tailor train --help`" : "; did you mean \(hint.joined(separator: " or "))?"))
            }
            let value: String
            if let inline { value = inline; index += 1 } else {
                guard index + 1 < arguments.count else {
                    throw TrainingError.invalidConfiguration(key: key, message: "\(flag) needs a value (\(declaredAccepts(key)))")
                }
                value = arguments[index + 1]
                index += 2
            }
            values[key] = FlagText(value)
            origins[key] = flag
        }
        return (values, origins)
    }

    private static func declaredAccepts(_ key: String) -> String {
        hyperparameters.first { $0.key == key }?.accepts ?? "a value"
    }

    /// Up to three flags within a small edit distance of `flag`, closest first.
    private static func closestFlags(to flag: String, among flags: Dictionary<String, String>.Keys) -> [String] {
        let typed = Array(flag.lowercased())
        func distance(_ other: String) -> Int {
            let b = Array(other)
            var previous = Array(0...b.count)
            for (i, x) in typed.enumerated() {
                var current = [i + 1]
                for (j, y) in b.enumerated() { current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))) }
                previous = current
            }
            return previous[b.count]
        }
        guard typed.count <= 64 else { return [] }
        return flags.map { ($0, distance($0)) }.filter { $0.1 <= max(3, typed.count / 3) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(3).map(\.0)
    }
}
