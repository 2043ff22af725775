// Published configurations of the supported model families, so a plan needs no download.
import Foundation
import TailorFormats

/// A named published configuration (sizes transcribed from each model's config.json on the Hugging Face Hub).
public struct ModelPreset: Sendable, Equatable {
    /// Lower-case Hub-style name, e.g. `"llama-3.1-8b"`.
    public var name: String
    /// `"llama"` (Llama 2/3), `"qwen2"` (Qwen2 and 2.5), `"mistral"`, `"smollm2"`, `"phi3"` (Phi-3/3.5-mini) or
    /// `"gemma2"`.
    public var family: String
    public var shape: ModelShape
}

/// Looks up presets by name, by parameter count and family, and parses `"7B"` style counts.
public enum ModelPresets {
    // (name, family, model_type, hidden, intermediate, layers, heads, kv heads, vocab, tied, head_dim)
    private static let table: [(String, String, String, Int, Int, Int, Int, Int, Int, Bool, Int?)] = [
        ("llama-2-7b", "llama", "llama", 4096, 11008, 32, 32, 32, 32000, false, nil),
        ("llama-2-13b", "llama", "llama", 5120, 13824, 40, 40, 40, 32000, false, nil),
        ("llama-2-70b", "llama", "llama", 8192, 28672, 80, 64, 8, 32000, false, nil),
        ("llama-3-8b", "llama", "llama", 4096, 14336, 32, 32, 8, 128256, false, nil),
        ("llama-3.1-8b", "llama", "llama", 4096, 14336, 32, 32, 8, 128256, false, nil),
        ("llama-3-70b", "llama", "llama", 8192, 28672, 80, 64, 8, 128256, false, nil),
        ("llama-3.1-70b", "llama", "llama", 8192, 28672, 80, 64, 8, 128256, false, nil),
        ("llama-3.2-1b", "llama", "llama", 2048, 8192, 16, 32, 8, 128256, true, 64),
        ("llama-3.2-3b", "llama", "llama", 3072, 8192, 28, 24, 8, 128256, true, 128),
        ("qwen2-0.5b", "qwen2", "qwen2", 896, 4864, 24, 14, 2, 151936, true, nil),
        ("qwen2-1.5b", "qwen2", "qwen2", 1536, 8960, 28, 12, 2, 151936, true, nil),
        ("qwen2-7b", "qwen2", "qwen2", 3584, 18944, 28, 28, 4, 152064, false, nil),
        ("qwen2-72b", "qwen2", "qwen2", 8192, 29568, 80, 64, 8, 152064, false, nil),
        ("qwen2.5-0.5b", "qwen2", "qwen2", 896, 4864, 24, 14, 2, 151936, true, nil),
        ("qwen2.5-1.5b", "qwen2", "qwen2", 1536, 8960, 28, 12, 2, 151936, true, nil),
        ("qwen2.5-3b", "qwen2", "qwen2", 2048, 11008, 36, 16, 2, 151936, true, nil),
        ("qwen2.5-7b", "qwen2", "qwen2", 3584, 18944, 28, 28, 4, 152064, false, nil),
        ("qwen2.5-14b", "qwen2", "qwen2", 5120, 13824, 48, 40, 8, 152064, false, nil),
        ("qwen2.5-32b", "qwen2", "qwen2", 5120, 27648, 64, 40, 8, 152064, false, nil),
        ("qwen2.5-72b", "qwen2", "qwen2", 8192, 29568, 80, 64, 8, 152064, false, nil),
        ("mistral-7b-v0.1", "mistral", "mistral", 4096, 14336, 32, 32, 8, 32000, false, nil),
        ("mistral-7b-v0.3", "mistral", "mistral", 4096, 14336, 32, 32, 8, 32768, false, nil),
        ("smollm2-135m", "smollm2", "llama", 576, 1536, 30, 9, 3, 49152, true, nil),
        ("smollm2-360m", "smollm2", "llama", 960, 2560, 32, 15, 5, 49152, true, nil),
        ("smollm2-1.7b", "smollm2", "llama", 2048, 8192, 24, 32, 32, 49152, true, nil),
        ("phi-3-mini-4k", "phi3", "phi3", 3072, 8192, 32, 32, 32, 32064, false, nil),
        ("phi-3-mini-128k", "phi3", "phi3", 3072, 8192, 32, 32, 32, 32064, false, nil),
        ("phi-3.5-mini", "phi3", "phi3", 3072, 8192, 32, 32, 32, 32064, false, nil),
        ("gemma-2-2b", "gemma2", "gemma2", 2304, 9216, 26, 8, 4, 256000, true, 256),
        ("gemma-2-9b", "gemma2", "gemma2", 3584, 14336, 42, 16, 8, 256000, true, 256),
        ("gemma-2-27b", "gemma2", "gemma2", 4608, 36864, 46, 32, 16, 256000, true, 128),
    ]

    /// Every preset, in the table's order.
    public static let all: [ModelPreset] = table.map { row in
        let (name, family, type, c, i, l, h, kv, v, tied, hd) = row
        return ModelPreset(name: name, family: family, shape: ModelShape(config: ModelConfig(
            modelType: type, vocabSize: v, hiddenSize: c, intermediateSize: i, layerCount: l,
            headCount: h, kvHeadCount: kv, headDim: hd, tieWordEmbeddings: tied), name: name))
    }

    /// Short names people type, mapped to the table's names.
    private static let aliases: [String: String] = [
        "llama-2-7b-hf": "llama-2-7b", "llama-2-13b-hf": "llama-2-13b", "llama-2-70b-hf": "llama-2-70b",
        "meta-llama-3-8b": "llama-3-8b", "meta-llama-3-70b": "llama-3-70b",
        "meta-llama-3.1-8b": "llama-3.1-8b", "meta-llama-3.1-70b": "llama-3.1-70b",
        "mistral-7b": "mistral-7b-v0.1",
    ]

    /// Family names accepted by `nearest` and their canonical form.
    private static let familyAliases: [String: String] = [
        "llama": "llama", "llama2": "llama", "llama3": "llama", "qwen": "qwen2", "qwen2": "qwen2",
        "qwen2.5": "qwen2", "mistral": "mistral", "smollm": "smollm2", "smollm2": "smollm2",
        "phi": "phi3", "phi3": "phi3", "phi3.5": "phi3", "gemma": "gemma2", "gemma2": "gemma2",
    ]

    /// The preset called `name`: case-insensitive, an `org/` prefix and `-instruct`/`-chat`/`-hf` suffixes ignored
    /// (`"meta-llama/Llama-3.1-8B-Instruct"` → `llama-3.1-8b`). Throws `PlanError.unknownPreset`.
    public static func named(_ name: String) throws -> ModelPreset {
        var key = name.lowercased().trimmingCharacters(in: .whitespaces)
        if let slash = key.lastIndex(of: "/") { key = String(key[key.index(after: slash)...]) }
        key = key.replacingOccurrences(of: "_", with: "-")
        for suffix in ["-instruct", "-chat", "-it"] where key.hasSuffix(suffix) { key = String(key.dropLast(suffix.count)) }
        key = aliases[key] ?? key
        if let preset = all.first(where: { $0.name == key }) { return preset }
        if key.hasSuffix("-hf"), let preset = all.first(where: { $0.name == String(key.dropLast(3)) }) { return preset }
        throw PlanError.unknownPreset(name: name, known: all.map(\.name))
    }

    /// The canonical family for `name` (`"qwen2.5"` → `"qwen2"`); throws `PlanError.unknownFamily`.
    public static func family(_ name: String) throws -> String {
        guard let family = familyAliases[name.lowercased()] else {
            throw PlanError.unknownFamily(name: name, known: Array(Set(familyAliases.values)).sorted())
        }
        return family
    }

    /// The preset of `family` whose parameter count is closest to `parameters` in ratio (|log N/N'| smallest);
    /// with several equally close (Llama 3 and 3.1), the later, newer one.
    public static func nearest(parameters: Int, family: String) throws -> ModelPreset {
        let canonical = try self.family(family)
        let candidates = all.filter { $0.family == canonical }
        let target = Double(max(parameters, 1))
        var best = candidates[0]
        for preset in candidates {
            let distance = abs(log(Double(preset.shape.parameterCount) / target))
            let bestDistance = abs(log(Double(best.shape.parameterCount) / target))
            if distance <= bestDistance { best = preset }
        }
        return best
    }

    /// A shape for `--params 7B --arch llama`: the nearest preset when it is within `tolerance` (ratio, default
    /// 10 %) of the request, else that preset's architecture with its layer count scaled to the request.
    public static func resolve(parameters: Int, family: String, tolerance: Double = 0.10) throws -> ModelShape {
        let preset = try nearest(parameters: parameters, family: family)
        let ratio = Double(preset.shape.parameterCount) / Double(max(parameters, 1))
        if abs(ratio - 1) <= tolerance { return preset.shape }
        return preset.shape.scaled(toParameters: parameters)
    }

    /// Parses a parameter count: `"7B"`, `"1.5b"`, `"135M"`, `"360m"`, `"500K"`, or a plain integer.
    public static func parseParameterCount(_ text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let scales: [Character: Double] = ["k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12]
        var number = Substring(trimmed)
        var scale = 1.0
        if let last = trimmed.last, let s = scales[last] {
            scale = s
            number = trimmed.dropLast()
        }
        guard let value = Double(number), value.isFinite, value > 0, value * scale < 1e15 else {
            throw PlanError.invalidSize(field: "params", text: text, hint: "use a count such as 7B, 1.5B or 135M")
        }
        return Int((value * scale).rounded())
    }
}
