// Errors of the optimizer target: bad settings and optimizer state that cannot be restored.

/// Why a setting or a saved optimizer state was refused.
public enum OptimError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A configuration field holds a value the optimizer or schedule cannot use.
    case invalidSetting(field: String, value: String, hint: String)
    /// A state tensor the restored optimizer needs is absent.
    case missingStateTensor(name: String)
    /// A state tensor does not have the shape of its parameter.
    case stateShapeMismatch(name: String, expected: [Int], found: [Int])
    /// A state tensor is not stored as f32.
    case stateDTypeMismatch(name: String, found: String)
    /// The saved state belongs to another set of trainable parameters.
    case parameterSetMismatch(missing: [String], unexpected: [String])
    /// The restoring call itself is inconsistent (names and shapes of different lengths, say).
    case inconsistentArguments(String)

    public var description: String {
        switch self {
        case let .invalidSetting(field, value, hint):
            return "invalid \(field) = \(value): \(hint)"
        case let .missingStateTensor(name):
            return "optimizer state tensor '\(name)' is missing; hint: the checkpoint was saved before the first step "
                + "or by another run; resume from a checkpoint written by this trainer or start fresh"
        case let .stateShapeMismatch(name, expected, found):
            return "optimizer state tensor '\(name)' has shape \(found), expected \(expected) (the parameter's shape); "
                + "hint: the model or LoRA configuration changed since the checkpoint"
        case let .stateDTypeMismatch(name, found):
            return "optimizer state tensor '\(name)' is \(found), expected f32"
        case let .parameterSetMismatch(missing, unexpected):
            return "optimizer state was saved for other parameters: missing state for \(Self.list(missing)), "
                + "state for unknown parameters \(Self.list(unexpected)); hint: the trainable parameter set changed"
        case let .inconsistentArguments(detail):
            return "inconsistent optimizer arguments: \(detail)"
        }
    }

    private static func list(_ names: [String]) -> String {
        if names.isEmpty { return "none" }
        let shown = names.prefix(4).map { "'\($0)'" }.joined(separator: ", ")
        return names.count > 4 ? "\(shown) and \(names.count - 4) more" : shown
    }
}
