// Errors thrown while parsing or rendering a chat template.

/// What went wrong with a chat template, its input, or a render.
public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    /// The template text is not valid Jinja (1-based line and column of the offending token).
    case syntax(line: Int, column: Int, message: String)
    /// The template called `raise_exception(message)`; the payload is the template's own message.
    case raised(String)
    /// A safety limit (output bytes, loop iterations, recursion depth, collection size) was reached.
    case limitExceeded(String)
    /// An error while rendering (type error, undefined attribute, unknown filter, ...), with the template line.
    case runtime(String)
    /// `builtIn(named:)` was given a name it does not know.
    case unknownTemplate(String)
    /// Bad input data (malformed JSON, unconvertible value).
    case invalidInput(String)
    /// Assistant spans need each turn's rendering to extend the previous one; this template does not.
    case notPrefixStable(turn: Int, message: String)

    public var description: String {
        switch self {
        case let .syntax(line, column, message):
            return "chat template syntax error at line \(line), column \(column): \(message)"
        case let .raised(message):
            return "chat template raised an exception: \(message)"
        case let .limitExceeded(message):
            return "chat template limit exceeded: \(message)"
        case let .runtime(message):
            return "chat template error: \(message)"
        case let .unknownTemplate(name):
            return "unknown built-in chat template '\(name)'; known names: "
                + ChatTemplate.builtInNames.joined(separator: ", ")
        case let .invalidInput(message):
            return "invalid chat template input: \(message)"
        case let .notPrefixStable(turn, message):
            return "cannot compute assistant spans: message \(turn): \(message) (the template re-renders earlier "
                + "turns differently once later turns exist; hint: mask by another method for this template)"
        }
    }
}
