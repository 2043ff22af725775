// One result of a preflight check: how bad, what is wrong, how to fix it.

/// How serious a finding is: warnings let a run start, errors should stop it.
public enum Severity: String, Codable, Sendable, Comparable {
    case warning, error

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .error }
}

/// A pitfall found before training.
public struct Finding: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Stable identifier of the check, e.g. `"lora-rank"`, `"learning-rate"`, `"target-modules"`.
    public var check: String
    public var severity: Severity
    public var message: String
    /// What to change.
    public var fix: String

    public init(check: String, severity: Severity, message: String, fix: String) {
        self.check = check
        self.severity = severity
        self.message = message
        self.fix = fix
    }

    /// `warning [lora-rank]: message (fix: …)`.
    public var description: String { "\(severity.rawValue) [\(check)]: \(message) (fix: \(fix))" }
}
