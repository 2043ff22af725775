// A YAML recipe read as a flat mapping of hyperparameter: value, with the line of each key. Only the node tree is
// built by Yams; values are constructed one scalar at a time, because Yams' own constructor traps on a mapping whose
// key is not a string (`[]: 1`, `{{}}`), found by the recipe fuzz target.
import Foundation
#if !TAILOR_FUZZ   // the recipe fuzz target compiles this file into one module with TrainingError and RecipeBounds
import TailorTraining
#endif
import Yams

enum RecipeFile {
    /// The recipe's values by key and where each key stands (`file:line`). Throws a named error for text that is not
    /// YAML, a document that is not a mapping, or a key that is not a plain string; a list or mapping as a value is
    /// passed on as one, for the configuration to name.
    static func load(_ text: String, file: String) throws -> (values: [String: Any], origins: [String: String]) {
        try RecipeBounds.check(text, file: file)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw TrainingError.invalidConfiguration(key: file, message: "not valid YAML (\(error))")
        }
        guard let root else { return ([:], [:]) }
        guard let mapping = root.mapping else {
            throw TrainingError.invalidConfiguration(key: file, message: "a recipe is a mapping of hyperparameter: value")
        }
        var values: [String: Any] = [:], origins: [String: String] = [:]
        for (key, value) in mapping {
            let line = key.mark.map { ":\($0.line)" } ?? ""
            guard let name = key.scalar?.string else {
                throw TrainingError.invalidConfiguration(key: file + line, message: "a recipe key must be a plain name")
            }
            switch value {
            case .scalar: values[name] = value.any
            case .sequence: values[name] = [Any]()
            case .mapping: values[name] = [String: Any]()
            }
            origins[name] = file + line
        }
        return (values, origins)
    }
}
