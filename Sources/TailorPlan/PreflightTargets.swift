// Preflight checks on the LoRA target modules and the chat template.
import TailorFormats

extension Preflight {
    /// Findings for a target spec over the model's linear module names (PEFT semantics, spec §2.6):
    /// error when the regex does not compile or nothing matches; warning for list entries that match nothing,
    /// for layers left without any adapter, and for module kinds targeted in some layers but not all.
    public static func targetModules(_ spec: TargetModules, exclude: [String] = [], linearModules names: [String],
                                     outputEmbedding: String = "lm_head") -> [Finding] {
        let matcher = TargetModuleMatcher(spec: spec, exclude: exclude, outputEmbedding: outputEmbedding)
        let matched: [String]
        do { matched = try matcher.select(from: names) } catch {
            return [Finding(check: "target-modules", severity: .error, message: "\(error)",
                            fix: "fix the regex; it must match whole module names such as model.layers.0.self_attn.q_proj")]
        }
        let kinds = Set(names.map(kindOf)).sorted()
        if matched.isEmpty {
            var fix = "target module names or suffixes of this model: \(kinds.joined(separator: ", ")), or all-linear"
            if case .regex(let pattern) = spec, !pattern.contains(where: { ".*+?[](){}|\\^$".contains($0) }) {
                fix = "a single string is a regex that must match the WHOLE name; use a list [\"\(pattern)\"] instead"
            }
            return [Finding(check: "target-modules", severity: .error,
                            message: "target modules \(spec) match none of the model's \(names.count) linear modules",
                            fix: fix)]
        }
        var findings: [Finding] = []
        if case .names(let entries) = spec {
            for entry in entries where !names.contains(where: { TargetModules.matchesListEntry($0, entry) }) {
                findings.append(Finding(check: "target-modules", severity: .warning,
                                        message: "target module '\(entry)' matches no module of this model",
                                        fix: "check the spelling; this model's linear modules are "
                                            + kinds.joined(separator: ", ")))
            }
        }
        // Coverage over layers: by layer index, and by kind among the layers that have that kind.
        var kindsByLayer: [Int: Set<String>] = [:]
        for name in names {
            if let layer = layerOf(name) { kindsByLayer[layer, default: []].insert(kindOf(name)) }
        }
        var matchedByLayer: [Int: Set<String>] = [:]
        for name in matched {
            if let layer = layerOf(name) { matchedByLayer[layer, default: []].insert(kindOf(name)) }
        }
        let layers = kindsByLayer.keys.sorted()
        let bare = layers.filter { matchedByLayer[$0] == nil }
        if !matchedByLayer.isEmpty && !bare.isEmpty {
            findings.append(Finding(check: "target-modules", severity: .warning,
                                    message: "\(bare.count) of \(layers.count) layers get no adapter (layers \(ranges(bare)))",
                                    fix: "target module names or suffixes, not full names of some layers, unless intended"))
        }
        for kind in Set(matchedByLayer.values.flatMap { $0 }).sorted() {
            let have = layers.filter { kindsByLayer[$0]?.contains(kind) == true && matchedByLayer[$0] != nil }
            let missing = have.filter { matchedByLayer[$0]?.contains(kind) != true }
            if !missing.isEmpty {
                findings.append(Finding(check: "target-modules", severity: .warning,
                                        message: "\(kind) is targeted in some layers but not in layers \(ranges(missing))",
                                        fix: "target '\(kind)' as a suffix to cover every layer, unless intended"))
            }
        }
        return findings
    }

    /// Compares the chat template the training data was rendered with against the model's own: identical →
    /// nothing; equal after collapsing whitespace → warning (rendered text, hence tokens, still differ);
    /// different → error. A model without a template → warning. No training template (raw text) → nothing.
    public static func chatTemplate(training: String?, model: String?) -> [Finding] {
        guard let training else { return [] }
        guard let model else {
            return [Finding(check: "chat-template", severity: .warning,
                            message: "the model has no chat template; the data's template will be new to it",
                            fix: "save the training template with the fine-tuned model so inference renders the same text")]
        }
        if training == model { return [] }
        if normalizedWhitespace(training) == normalizedWhitespace(model) {
            return [Finding(check: "chat-template", severity: .warning,
                            message: "the training chat template differs from the model's only in whitespace",
                            fix: "render the training data with the model's exact template (whitespace changes tokens)")]
        }
        return [Finding(check: "chat-template", severity: .error,
                        message: "the training data uses a different chat template than the model",
                        fix: "render the data with the model's template, or ship the training template with the model")]
    }

    /// Runs of whitespace collapsed to one space, ends trimmed.
    static func normalizedWhitespace(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    static func kindOf(_ name: String) -> String { name.split(separator: ".").last.map(String.init) ?? name }

    /// The number after a `layers.` component, e.g. 3 in `model.layers.3.mlp.up_proj`.
    static func layerOf(_ name: String) -> Int? {
        let parts = name.split(separator: ".")
        guard let index = parts.firstIndex(of: "layers"), index + 1 < parts.count else { return nil }
        return Int(parts[index + 1])
    }

    /// `[0, 1, 2, 5, 7, 8]` → `"0-2, 5, 7-8"`.
    static func ranges(_ values: [Int]) -> String {
        var parts: [String] = []
        var start = values.first
        var previous = values.first
        for value in values.dropFirst() + [Int.min] {
            guard let s = start, let p = previous else { break }
            if value != p + 1 {
                parts.append(s == p ? "\(s)" : "\(s)-\(p)")
                start = value
            }
            previous = value
        }
        return parts.joined(separator: ", ")
    }
}
