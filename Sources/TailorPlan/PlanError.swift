// The errors TailorPlan throws: bad sizes, unknown presets and calibration files.

/// A planning input that cannot be used, with the field it came from and a hint where one is known.
public enum PlanError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A size such as `"24GB"` or `"7B"` that does not parse.
    case invalidSize(field: String, text: String, hint: String)
    /// A numeric request field outside its valid range.
    case invalidValue(field: String, value: String, reason: String)
    /// A preset name that is not in `ModelPresets.all`.
    case unknownPreset(name: String, known: [String])
    /// A model family name that no preset belongs to.
    case unknownFamily(name: String, known: [String])
    /// A calibration (coefficients) JSON that cannot be applied.
    case invalidCoefficients(reason: String)

    public var description: String {
        switch self {
        case .invalidSize(let field, let text, let hint):
            return "\(field): cannot read '\(text)' as a size (\(hint))"
        case .invalidValue(let field, let value, let reason):
            return "\(field): \(value) is invalid: \(reason)"
        case .unknownPreset(let name, let known):
            return "unknown model preset '\(name)'; known presets: \(known.joined(separator: ", "))"
        case .unknownFamily(let name, let known):
            return "unknown model family '\(name)'; known families: \(known.joined(separator: ", "))"
        case .invalidCoefficients(let reason):
            return "plan coefficients: \(reason)"
        }
    }
}
