// PEFT's LoraConfig (adapter_config.json): the fields Tailor reads and writes, with PEFT's names.
import Foundation

/// Which modules get an adapter: PEFT's `target_modules` (spec §2.6) — a list of names or suffixes, a regex that must
/// match the whole module name, or "all-linear". The one rule for training, the planner, preflight and export.
public enum TargetModules: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Module names or suffixes: a module matches when its name equals an entry or ends with "." + entry.
    case names([String])
    /// A regular expression that must match the whole module name (PEFT's single-string form, `re.fullmatch`).
    case regex(String)
    /// Every linear layer except the output head.
    case allLinear

    /// Reads a flag or recipe value: `all-linear` (any case); `re:<pattern>` for a regex; a comma-separated list of
    /// names or suffixes (`q_proj,v_proj`, `self_attn.o_proj`); a single value with regex syntax in it
    /// (`.*\.(q|v)_proj`) is a regex, as PEFT reads a string.
    public static func parse(_ text: String) -> TargetModules {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "all-linear" { return .allLinear }
        if trimmed.hasPrefix("re:") { return .regex(String(trimmed.dropFirst(3))) }
        let names = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let plain = trimmed.allSatisfy { $0.isLetter || $0.isNumber || "_.,- ".contains($0) }
        return names.count > 1 || plain ? .names(names) : .regex(trimmed)
    }

    public var description: String {
        switch self {
        case .allLinear: "all-linear"
        case .names(let names): "[" + names.joined(separator: ", ") + "]"
        case .regex(let pattern): "re:" + pattern
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([String].self) {
            self = .names(list)
        } else {
            let text = try container.decode(String.self)
            self = text.lowercased() == "all-linear" ? .allLinear : .regex(text)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .names(let list): try container.encode(list)
        case .regex(let pattern): try container.encode(pattern)
        case .allLinear: try container.encode("all-linear")
        }
    }

    /// List semantics: equal, or ending with "." + entry.
    public static func matchesListEntry(_ name: String, _ entry: String) -> Bool {
        name == entry || name.hasSuffix("." + entry)
    }

    /// Does the module named `name` (e.g. "model.layers.0.self_attn.q_proj") get an adapter? "all-linear" never
    /// targets `outputEmbedding`. Throws `LoRAError.invalidValue` for a regex that does not compile.
    public func matches(_ name: String, outputEmbedding: String = "lm_head") throws -> Bool {
        switch self {
        case .allLinear:
            return name != outputEmbedding && !name.hasSuffix("." + outputEmbedding)
        case .names(let list):
            return list.contains { Self.matchesListEntry(name, $0) }
        case .regex(let pattern):
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern) } catch {
                throw LoRAError.invalidValue("target_modules regex '\(pattern)' does not compile: \(error)")
            }
            return name.wholeMatch(of: regex) != nil
        }
    }
}

/// An adapter's hyper-parameters as PEFT stores them in adapter_config.json.
public struct LoRAConfiguration: Sendable, Equatable, Codable {
    public var r: Int
    public var loraAlpha: Double
    public var loraDropout: Double
    public var targetModules: TargetModules
    public var useRSLoRA: Bool
    public var useDoRA: Bool
    public var bias: String
    public var baseModelNameOrPath: String?
    public var rankPattern: [String: Int]
    public var alphaPattern: [String: Double]
    public var modulesToSave: [String]?
    public var fanInFanOut: Bool
    public var taskType: String
    public var peftType: String
    public var inferenceMode: Bool
    public var initLoRAWeights: Bool

    enum CodingKeys: String, CodingKey {
        case r, bias
        case loraAlpha = "lora_alpha", loraDropout = "lora_dropout", targetModules = "target_modules"
        case useRSLoRA = "use_rslora", useDoRA = "use_dora", baseModelNameOrPath = "base_model_name_or_path"
        case rankPattern = "rank_pattern", alphaPattern = "alpha_pattern", modulesToSave = "modules_to_save"
        case fanInFanOut = "fan_in_fan_out", taskType = "task_type", peftType = "peft_type"
        case inferenceMode = "inference_mode", initLoRAWeights = "init_lora_weights"
    }

    public init(r: Int = 8, loraAlpha: Double = 16, loraDropout: Double = 0.05, targetModules: TargetModules = .allLinear,
                useRSLoRA: Bool = false, useDoRA: Bool = false, baseModelNameOrPath: String? = nil) {
        self.r = r
        self.loraAlpha = loraAlpha
        self.loraDropout = loraDropout
        self.targetModules = targetModules
        self.useRSLoRA = useRSLoRA
        self.useDoRA = useDoRA
        bias = "none"
        self.baseModelNameOrPath = baseModelNameOrPath
        rankPattern = [:]
        alphaPattern = [:]
        modulesToSave = nil
        fanInFanOut = false
        taskType = "CAUSAL_LM"
        peftType = "LORA"
        inferenceMode = true
        initLoRAWeights = true
    }

    /// Older PEFT versions omit fields: missing ones take PEFT's defaults; unknown ones are ignored.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        r = try c.decodeIfPresent(Int.self, forKey: .r) ?? 8
        loraAlpha = try c.decodeIfPresent(Double.self, forKey: .loraAlpha) ?? 8
        loraDropout = try c.decodeIfPresent(Double.self, forKey: .loraDropout) ?? 0
        targetModules = try c.decodeIfPresent(TargetModules.self, forKey: .targetModules) ?? .allLinear
        useRSLoRA = try c.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? false
        useDoRA = try c.decodeIfPresent(Bool.self, forKey: .useDoRA) ?? false
        bias = try c.decodeIfPresent(String.self, forKey: .bias) ?? "none"
        baseModelNameOrPath = try c.decodeIfPresent(String.self, forKey: .baseModelNameOrPath)
        rankPattern = try c.decodeIfPresent([String: Int].self, forKey: .rankPattern) ?? [:]
        alphaPattern = try c.decodeIfPresent([String: Double].self, forKey: .alphaPattern) ?? [:]
        modulesToSave = try c.decodeIfPresent([String].self, forKey: .modulesToSave)
        fanInFanOut = try c.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        taskType = try c.decodeIfPresent(String.self, forKey: .taskType) ?? "CAUSAL_LM"
        peftType = try c.decodeIfPresent(String.self, forKey: .peftType) ?? "LORA"
        inferenceMode = try c.decodeIfPresent(Bool.self, forKey: .inferenceMode) ?? true
        initLoRAWeights = (try? c.decodeIfPresent(Bool.self, forKey: .initLoRAWeights)) ?? true
    }

    /// Rank of module `name`, honouring rank_pattern (a key matches when the name ends with it).
    public func rank(for name: String) -> Int {
        rankPattern.first { name == $0.key || name.hasSuffix("." + $0.key) }?.value ?? r
    }

    /// The LoRA scaling of module `name`: alpha / r, or alpha / sqrt(r) with rsLoRA.
    public func scaling(for name: String) -> Float {
        let rank = Double(self.rank(for: name))
        let alpha = alphaPattern.first { name == $0.key || name.hasSuffix("." + $0.key) }?.value ?? loraAlpha
        return Float(useRSLoRA ? alpha / rank.squareRoot() : alpha / rank)
    }

    /// Checks values a user can get wrong; throws a named error before any work starts.
    public func validate() throws {
        guard r > 0 else { throw LoRAError.invalidValue("r must be positive (got \(r))") }
        guard loraAlpha > 0 else { throw LoRAError.invalidValue("lora_alpha must be positive (got \(loraAlpha))") }
        guard (0..<1).contains(loraDropout) else { throw LoRAError.invalidValue("lora_dropout must be in [0, 1) (got \(loraDropout))") }
        guard !fanInFanOut else { throw LoRAError.unsupported("fan_in_fan_out applies to GPT-2 Conv1D layers only") }
    }
}

/// Problems with an adapter or its configuration.
public enum LoRAError: Error, CustomStringConvertible, Equatable {
    case invalidValue(String)
    case unsupported(String)
    case noTargets(String)
    case missingTensor(name: String, file: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int], file: String)
    case unreadable(file: String, reason: String)
    /// Training a DoRA adapter (use_dora) was requested; Tailor applies and merges DoRA adapters but trains plain LoRA.
    case doraTraining(module: String?)

    public var description: String {
        switch self {
        case .invalidValue(let m): "invalid LoRA configuration: \(m)"
        case .unsupported(let m): "unsupported LoRA configuration: \(m)"
        case .noTargets(let spec): "target_modules \(spec) matches no linear layer of the model; hint: use names such as q_proj, v_proj or \"all-linear\""
        case .missingTensor(let name, let file): "\(file): adapter tensor '\(name)' is missing"
        case .shapeMismatch(let name, let expected, let found, let file):
            "\(file): adapter tensor '\(name)' has shape \(found) but the model needs \(expected); was the adapter trained on another model?"
        case .unreadable(let file, let reason): "\(file): \(reason)"
        case .doraTraining(let module):
            "training DoRA adapters (use_dora) is not supported\(module.map { " (module '\($0)' has a lora_magnitude_vector)" } ?? ""); "
                + "hint: train a plain LoRA adapter; existing DoRA adapters work with score, generate, merge and export gguf"
        }
    }
}
