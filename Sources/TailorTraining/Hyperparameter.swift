// One declaration per hyperparameter: its recipe key (the flag is the key in kebab case), the value it accepts, its
// range and its help text. Decoding recipes and flags, saving and loading the configuration, range checks, the
// errors and `tailor train --help` all read these declarations (TrainingConfiguration+Hyperparameters.swift).
import Foundation
import TailorFormats
import TailorOptim
import TailorTensor

/// A value a hyperparameter holds: parsed from a recipe scalar or a flag's text, described in errors and help.
public protocol HyperparameterValue: Codable, Equatable, Sendable {
    /// The value `raw` stands for (a recipe's `Int`, `Double`, `Bool` or `String`, or a flag's `FlagText`), or nil.
    static func parse(_ raw: Any) -> Self?
    /// What a key of this type accepts, for errors and help: "an integer", "true or false".
    static var expected: String { get }
    /// How help and tables show the value.
    var text: String { get }
    /// Writes the value under `key`; an unset optional writes nothing.
    func encode(to container: inout KeyedEncodingContainer<HyperparameterKey>, key: HyperparameterKey) throws
}

extension HyperparameterValue {
    public func encode(to container: inout KeyedEncodingContainer<HyperparameterKey>, key: HyperparameterKey) throws {
        try container.encode(self, forKey: key)
    }
}

/// A flag's value as typed on the command line; each value type reads it its own way ("8" is an integer for
/// `--lora-r` and a name for `--target-modules`).
public struct FlagText: CustomStringConvertible, Sendable {
    public let text: String
    public init(_ text: String) { self.text = text }
    /// The value a recipe would hold for the same text: an integer, a number, true/false, or the string.
    var asRecipeValue: Any {
        if let integer = Int(text) { return integer }
        if let number = Double(text) { return number }
        if text == "true" || text == "false" { return text == "true" }
        return text
    }
    public var description: String { text }
}

/// A key of the saved configuration (`training_config.json`, `trainer_state.json`).
public struct HyperparameterKey: CodingKey {
    public let stringValue: String
    public init(_ key: String) { stringValue = key }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public var intValue: Int? { nil }
    public init?(intValue: Int) { nil }
}

private func recipeValue(_ raw: Any) -> Any { (raw as? FlagText)?.asRecipeValue ?? raw }

extension Int: HyperparameterValue {
    public static func parse(_ raw: Any) -> Int? {
        switch recipeValue(raw) {
        case let value as Int: value
        case let value as Double where value.rounded() == value: Int(exactly: value)
        default: nil
        }
    }
    public static var expected: String { "an integer" }
    public var text: String { "\(self)" }
}

extension UInt64: HyperparameterValue {
    public static func parse(_ raw: Any) -> UInt64? {
        // A flag's text is read whole first: seeds above Int.max are not Ints and lose digits as Doubles.
        if let flag = raw as? FlagText, let value = UInt64(flag.text) { return value }
        switch recipeValue(raw) {
        case let value as Int: return UInt64(exactly: value)
        case let value as Double where value.rounded() == value: return UInt64(exactly: value)
        default: return nil
        }
    }
    public static var expected: String { "a non-negative integer" }
    public var text: String { "\(self)" }
}

extension Double: HyperparameterValue {
    public static func parse(_ raw: Any) -> Double? {
        switch recipeValue(raw) {
        case let value as Double: value
        case let value as Int: Double(value)
        default: nil
        }
    }
    public static var expected: String { "a number" }
    public var text: String { "\(self)" }
}

extension Bool: HyperparameterValue {
    public static func parse(_ raw: Any) -> Bool? { recipeValue(raw) as? Bool }
    public static var expected: String { "true or false" }
    public var text: String { "\(self)" }
}

extension String: HyperparameterValue {
    public static func parse(_ raw: Any) -> String? { (raw as? FlagText)?.text ?? raw as? String }
    public static var expected: String { "a string" }
    public var text: String { self }
}

/// A hyperparameter that takes one of a fixed set of names.
public protocol HyperparameterChoice: HyperparameterValue, RawRepresentable<String>, CaseIterable {}

extension HyperparameterChoice {
    public static func parse(_ raw: Any) -> Self? { String.parse(raw).flatMap(Self.init(rawValue:)) }
    public static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
    public var text: String { rawValue }
}

extension TrainingMethod: HyperparameterChoice {}
extension LearningRateSchedule: HyperparameterChoice {}
extension MatmulPrecision: HyperparameterChoice {}
extension TrainingObjective: HyperparameterChoice {}
extension DPOLossType: HyperparameterChoice {}
extension TruncationMode: HyperparameterChoice {}

extension Optional: HyperparameterValue where Wrapped: HyperparameterValue {
    public static func parse(_ raw: Any) -> Optional? { Wrapped.parse(raw).map { .some($0) } }
    public static var expected: String { Wrapped.expected }
    public var text: String { map(\.text) ?? "none" }
    public func encode(to container: inout KeyedEncodingContainer<HyperparameterKey>, key: HyperparameterKey) throws {
        try container.encodeIfPresent(self, forKey: key)
    }
}

/// The values a hyperparameter allows, written as its errors and help show them.
public struct ValueLimits<Value>: Sendable {
    /// "1...65536", "[0.0, 1.0)".
    public let text: String
    let contains: @Sendable (Value) -> Bool

    /// Every value of the type.
    public static var any: ValueLimits { ValueLimits(text: "", contains: { _ in true }) }
}

extension ValueLimits where Value == Int {
    public static func within(_ range: ClosedRange<Int>) -> Self {
        Self(text: "\(range.lowerBound)...\(range.upperBound)", contains: { range.contains($0) })
    }
}

extension ValueLimits where Value == Double {
    /// `[lower, upper]`, either end open when excluded.
    public static func within(_ range: ClosedRange<Double>, excludingLower: Bool = false, excludingUpper: Bool = false) -> Self {
        Self(text: "\(excludingLower ? "(" : "[")\(range.lowerBound), \(range.upperBound)\(excludingUpper ? ")" : "]")",
             contains: { range.contains($0) && !(excludingLower && $0 == range.lowerBound) && !(excludingUpper && $0 == range.upperBound) })
    }
}

extension ValueLimits where Value == Double? {
    /// As for `Double`; an unset value is allowed.
    public static func within(_ range: ClosedRange<Double>, excludingLower: Bool = false, excludingUpper: Bool = false) -> Self {
        let limits = ValueLimits<Double>.within(range, excludingLower: excludingLower, excludingUpper: excludingUpper)
        return Self(text: limits.text, contains: { $0.map(limits.contains) ?? true })
    }
}

/// One hyperparameter of `TrainingConfiguration`.
public struct Hyperparameter {
    /// The recipe key and saved name (snake_case, transformers' and TRL's names).
    public let key: String
    /// One line for `--help`.
    public let help: String
    /// What the key accepts, with its range: "an integer in 1...65536".
    public let accepts: String
    /// The default, as help shows it.
    public let defaultText: String
    let assign: (inout TrainingConfiguration, Any) -> String?
    let inRange: (TrainingConfiguration) -> String?
    let encode: (TrainingConfiguration, inout KeyedEncodingContainer<HyperparameterKey>) throws -> Void
    let decode: (inout TrainingConfiguration, KeyedDecodingContainer<HyperparameterKey>) throws -> Void

    /// A hyperparameter stored at `path`, allowed within `limits`.
    init<Value: HyperparameterValue>(_ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value>,
                                     _ limits: ValueLimits<Value> = .any, help: String) {
        self.key = key
        self.help = help
        accepts = Value.expected + (limits.text.isEmpty ? "" : " in \(limits.text)")
        defaultText = TrainingConfiguration()[keyPath: path].text
        let codingKey = HyperparameterKey(key)
        assign = { configuration, raw in
            guard let value = Value.parse(raw) else { return "expected \(Value.expected), got \(Hyperparameter.describe(raw))" }
            configuration[keyPath: path] = value
            return nil
        }
        inRange = { configuration in
            let value = configuration[keyPath: path]
            return limits.contains(value) ? nil : "must be in \(limits.text), got \(value.text)"
        }
        encode = { configuration, container in try configuration[keyPath: path].encode(to: &container, key: codingKey) }
        decode = { configuration, container in
            if let value = try container.decodeIfPresent(Value.self, forKey: codingKey) { configuration[keyPath: path] = value }
        }
    }

    /// The flag: `--lora-r` for `lora_r`.
    public var flag: String { Self.flag(forKey: key) }

    static func flag(forKey key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// A value as errors quote it: strings in quotes, lists and mappings by kind.
    static func describe(_ raw: Any) -> String {
        switch (raw as? FlagText)?.asRecipeValue ?? raw {
        case let s as String: "\"\(s)\""
        case is [Any]: "a list"
        case is [String: Any]: "a mapping"
        case let value: "\(value)"
        }
    }
}
