// PEFT's target_modules (`TargetModules`, spec §2.6) with exclude_modules, over a model's linear module names.
import TailorFormats

/// Selects the targeted modules from a model's linear module names, like PEFT's `check_target_module_exists`.
public struct TargetModuleMatcher: Sendable, Equatable {
    public var spec: TargetModules
    /// PEFT `exclude_modules` as a list: names or "." suffixes removed before matching.
    public var exclude: [String]
    /// The output embedding that "all-linear" never targets.
    public var outputEmbedding: String

    public init(spec: TargetModules, exclude: [String] = [], outputEmbedding: String = "lm_head") {
        self.spec = spec
        self.exclude = exclude
        self.outputEmbedding = outputEmbedding
    }

    /// Whether `name` is targeted; throws `LoRAError.invalidValue` for a pattern that does not compile.
    public func matches(_ name: String) throws -> Bool {
        if exclude.contains(where: { TargetModules.matchesListEntry(name, $0) }) { return false }
        return try spec.matches(name, outputEmbedding: outputEmbedding)
    }

    /// The targeted names among `names`, in their order.
    public func select(from names: [String]) throws -> [String] {
        try names.filter { try matches($0) }
    }

    /// The targeted modules among `modules`, in their order.
    public func select(from modules: [LinearModule]) throws -> [LinearModule] {
        try modules.filter { try matches($0.name) }
    }
}
