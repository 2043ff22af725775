// PEFT's target_modules semantics (spec §2.6): names or suffixes, a full-match regex, or "all-linear".

/// Which linear modules get LoRA adapters, as PEFT's `target_modules` describes them.
public enum TargetSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Every linear module except the output embedding (`lm_head`).
    case allLinear
    /// A list: a module matches when its name equals an entry or ends with "." + entry.
    case names([String])
    /// A Python-style regex that must match the whole module name (PEFT's single-string form).
    case regex(String)

    /// Parses a command-line value: `all-linear` (any case); `re:<pattern>` for a regex; otherwise a
    /// comma-separated list of names or suffixes (`q_proj,v_proj`, `self_attn.o_proj`).
    public static func parse(_ text: String) -> TargetSpec {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "all-linear" { return .allLinear }
        if trimmed.hasPrefix("re:") { return .regex(String(trimmed.dropFirst(3))) }
        return .names(trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    public var description: String {
        switch self {
        case .allLinear: return "all-linear"
        case .names(let names): return "[" + names.joined(separator: ", ") + "]"
        case .regex(let pattern): return "re:" + pattern
        }
    }
}

/// Selects the targeted modules from a model's linear module names, like PEFT's `check_target_module_exists`.
public struct TargetModuleMatcher: Sendable, Equatable {
    public var spec: TargetSpec
    /// PEFT `exclude_modules` as a list: names or "." suffixes removed before matching.
    public var exclude: [String]
    /// The output embedding that "all-linear" never targets.
    public var outputEmbedding: String

    public init(spec: TargetSpec, exclude: [String] = [], outputEmbedding: String = "lm_head") {
        self.spec = spec
        self.exclude = exclude
        self.outputEmbedding = outputEmbedding
    }

    /// List semantics: equal, or ending with "." + entry.
    static func matchesListEntry(_ name: String, _ entry: String) -> Bool {
        name == entry || name.hasSuffix("." + entry)
    }

    /// Whether `name` is targeted; throws `PlanError.invalidRegex` for a pattern that does not compile.
    public func matches(_ name: String) throws -> Bool {
        if exclude.contains(where: { Self.matchesListEntry(name, $0) }) { return false }
        switch spec {
        case .allLinear:
            return name != outputEmbedding && !name.hasSuffix("." + outputEmbedding)
        case .names(let entries):
            return entries.contains { Self.matchesListEntry(name, $0) }
        case .regex(let pattern):
            return try name.wholeMatch(of: Self.compile(pattern)) != nil
        }
    }

    /// The targeted names among `names`, in their order.
    public func select(from names: [String]) throws -> [String] {
        try names.filter { try matches($0) }
    }

    /// The targeted modules among `modules`, in their order.
    public func select(from modules: [LinearModule]) throws -> [LinearModule] {
        try modules.filter { try matches($0.name) }
    }

    static func compile(_ pattern: String) throws -> Regex<AnyRegexOutput> {
        do { return try Regex(pattern) } catch {
            throw PlanError.invalidRegex(pattern: pattern, reason: "\(error)")
        }
    }
}
