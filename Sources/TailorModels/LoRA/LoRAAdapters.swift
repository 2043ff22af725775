// Attaching, loading and saving LoRA adapters on a Llama-family model, in PEFT's file format.
import Foundation
import TailorFormats
import TailorTensor

extension LlamaWeights {
    /// Full module names of every linear layer that `targets` selects, e.g. "model.layers.0.self_attn.q_proj".
    public func targetedModules(_ targets: TargetModules) throws -> [String] {
        try layers.indices.flatMap { l in
            try layers[l].presentLinears.map { "model.layers.\(l).\($0.moduleName)" }.filter { try targets.matches($0) }
        }
    }

    /// Adds fresh adapters as PEFT initialises them: A ~ U(-1/sqrt(d_in), 1/sqrt(d_in)) (Kaiming-uniform, a = √5),
    /// B = 0, so the model starts unchanged. Throws when the targets select no layer.
    public mutating func attachLoRA(_ config: LoRAConfiguration, seed: UInt64) throws {
        try config.validate()
        guard !config.useDoRA else { throw LoRAError.doraTraining(module: nil) }
        let modules = try targetedModules(config.targetModules)
        guard !modules.isEmpty else { throw LoRAError.noTargets("\(config.targetModules)") }
        var rng = SplitMix64(seed: seed)
        for module in modules {
            try updateLinear(module) { linear in
                let rank = config.rank(for: module), k = linear.inFeatures
                let bound = 1 / Float(k).squareRoot()
                let a = (0..<(rank * k)).map { _ in Float.random(in: -bound..<bound, using: &rng) }
                linear.lora = LoRAAdapter(a: Tensor(shape: [rank, k], values: a), b: Tensor(zeros: [linear.outFeatures, rank]),
                                          scaling: config.scaling(for: module), dropout: Float(config.loraDropout))
            }
        }
    }

    /// Applies `body` to the linear layer with full module name `module`.
    mutating func updateLinear(_ module: String, _ body: (inout Linear) throws -> Void) throws {
        let parts = module.split(separator: ".", maxSplits: 3).map(String.init)   // model, layers, i, rest
        guard parts.count == 4, let l = Int(parts[2]), layers.indices.contains(l), let slot = LinearSlot(moduleName: parts[3]),
              var linear = layers[l][linear: slot] else {
            throw LoRAError.invalidValue("no linear layer named '\(module)'")
        }
        try body(&linear)
        layers[l][linear: slot] = linear
    }

    /// The adapters as PEFT names them: base_model.model.<module>.lora_A.weight / lora_B.weight.
    public func loraTensors() -> [(name: String, tensor: Tensor)] {
        layers.indices.flatMap { l in
            layers[l].presentLinears.compactMap { slot -> [(String, Tensor)]? in
                guard let lora = layers[l][linear: slot]?.lora else { return nil }
                let prefix = "base_model.model.model.layers.\(l).\(slot.moduleName)"
                let magnitude = lora.magnitude.map { [(prefix + ".lora_magnitude_vector", $0)] } ?? []
                return [(prefix + ".lora_A.weight", lora.a), (prefix + ".lora_B.weight", lora.b)] + magnitude
            }.flatMap { $0 }
        }
    }

    /// Full names of the modules whose adapter is DoRA (has a magnitude vector). Tailor applies and merges DoRA
    /// adapters but does not train them: a trainer must refuse weights where this is not empty.
    public var doraModules: [String] {
        layers.indices.flatMap { l in
            layers[l].presentLinears.filter { layers[l][linear: $0]?.lora?.isDoRA == true }.map { "model.layers.\(l).\($0.moduleName)" }
        }
    }
}

/// A PEFT adapter folder: adapter_config.json + adapter_model.safetensors (LoRA or DoRA).
public enum PEFTAdapter {
    /// Reads an adapter folder and attaches it to `weights`, checking every tensor's presence and shape.
    public static func load(from directory: URL, into weights: inout LlamaWeights) throws -> LoRAConfiguration {
        let configURL = directory.appendingPathComponent("adapter_config.json")
        let config: LoRAConfiguration
        do {
            config = try JSONDecoder().decode(LoRAConfiguration.self, from: Data(contentsOf: configURL))
        } catch {
            throw LoRAError.unreadable(file: configURL.path, reason: "not a readable PEFT adapter_config.json (\(error))")
        }
        try config.validate()
        let file = try SafeTensorsFile(url: directory.appendingPathComponent("adapter_model.safetensors"))
        let modules = try weights.targetedModules(config.targetModules)
        guard !modules.isEmpty else { throw LoRAError.noTargets("\(config.targetModules)") }
        for module in modules {
            let prefix = "base_model.model." + module
            try weights.updateLinear(module) { linear in
                func read(_ suffix: String, _ shape: [Int]) throws -> Tensor {
                    let name = prefix + suffix
                    guard file.info(name) != nil else { throw LoRAError.missingTensor(name: name, file: file.url.path) }
                    let tensor = try file.tensor(name).converted(to: .f32)
                    guard tensor.shape == shape else {
                        throw LoRAError.shapeMismatch(name: name, expected: shape, found: tensor.shape, file: file.url.path)
                    }
                    return tensor
                }
                let rank = config.rank(for: module)
                var lora = LoRAAdapter(a: try read(".lora_A.weight", [rank, linear.inFeatures]),
                                       b: try read(".lora_B.weight", [linear.outFeatures, rank]),
                                       scaling: config.scaling(for: module), dropout: Float(config.loraDropout))
                if config.useDoRA {
                    // PEFT saves DoRA's magnitude without ".weight" (the adapter name removed from
                    // lora_magnitude_vector.<name>.weight). Its norm is taken against this base, once.
                    lora.magnitude = try read(".lora_magnitude_vector", [linear.outFeatures])
                    lora.weightNorm = DoRA.weightNorm(linear, lora)
                }
                linear.lora = lora
            }
        }
        return config
    }

    /// Writes `weights`' adapters and `config` in PEFT's layout, each file atomically.
    public static func save(_ weights: LlamaWeights, config: LoRAConfiguration, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var saved = config
        saved.inferenceMode = true
        // Like PEFT: the short suffixes when they select exactly the same layers, the full names otherwise.
        let selected = try weights.targetedModules(config.targetModules)
        let suffixes = Array(Set(selected.map { String($0.split(separator: ".").last ?? "") })).sorted()
        let bySuffix = try weights.targetedModules(.names(suffixes))
        saved.targetModules = .names(bySuffix == selected ? suffixes : selected)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(saved).write(to: directory.appendingPathComponent("adapter_config.json"), options: .atomic)
        try SafeTensorsWriter.write(weights.loraTensors(), metadata: ["format": "pt"],
                                    to: directory.appendingPathComponent("adapter_model.safetensors"))
        let readme = directory.appendingPathComponent("README.md")
        if !FileManager.default.fileExists(atPath: readme.path) {
            try Data(modelCard(baseModel: config.baseModelNameOrPath).utf8).write(to: readme, options: .atomic)
        }
    }

    /// The model card PEFT's save_pretrained writes beside an adapter: YAML front matter naming the base (which the
    /// Hub uses to link the adapter to it) and the library.
    static func modelCard(baseModel: String?) -> String {
        let baseModel = baseModel?.filter { !$0.isNewline && $0 != "\"" }
        var lines = ["---"]
        if let baseModel { lines.append("base_model: \(baseModel)") }
        lines += ["library_name: peft", "pipeline_tag: text-generation", "tags:"]
        if let baseModel { lines.append("- base_model:adapter:\(baseModel)") }
        lines += ["- lora", "- tailor", "---", "", "# LoRA adapter", "",
                  "Trained with Tailor. Load it with PEFT: `AutoPeftModelForCausalLM.from_pretrained(\"<this folder>\")`"
                  + (baseModel.map { " (downloads the base, `\($0)`)." } ?? "."), ""]
        return lines.joined(separator: "\n")
    }
}
