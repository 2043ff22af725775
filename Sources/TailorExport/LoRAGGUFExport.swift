// A LoRA adapter as a GGUF file llama.cpp applies with --lora (spec §4.7): general.type "adapter", adapter.type
// "lora", adapter.lora.alpha; tensors "<gguf weight name>.lora_a" [R, K] and ".lora_b" [N, R] in F32, lora_B rows
// permuted like the base q/k weights for architecture "llama".
import Foundation
import TailorFormats
import TailorModels
import TailorTensor

/// Writing LoRA adapter GGUF files.
public enum LoRAGGUFExport {
    /// llama.cpp scales an adapter by alpha / rank with one alpha per file, so every module must share the same
    /// scaling·rank (true for plain PEFT adapters; rank_pattern/alpha_pattern/rsLoRA may break it).
    public static func alpha(of adapters: [String: LoRAAdapter]) throws -> Float {
        let alphas = Set(adapters.values.map { $0.scaling * Float($0.rank) })
        guard let alpha = alphas.first else { throw ExportError.unsupported("the adapter has no LoRA layer") }
        guard alphas.count == 1 || (alphas.max() ?? 0) - (alphas.min() ?? 0) <= 1e-6 * alpha else {
            throw ExportError.unsupported("modules use different alpha/rank scalings (\(alphas.sorted())); a GGUF LoRA holds one alpha")
        }
        return alpha
    }

    /// Metadata and tensors of the adapter file.
    public static func contents(adapters: [String: LoRAAdapter], config: ModelConfig, name: String) throws
        -> (metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorData]) {
        let arch = try GGUFExport.architecture(config)
        if let module = adapters.keys.sorted().first(where: { adapters[$0]?.isDoRA == true }) {
            throw ExportError.unsupported("\(module) is a DoRA adapter (lora_magnitude_vector): a GGUF LoRA holds only A and B, "
                + "which llama.cpp applies as W + s·B·A (hint: export the merged model: drop --lora-only)")
        }
        let metadata: [(key: String, value: GGUFValue)] = [
            (GGUFKey.architecture, .string(arch)), ("general.type", .string("adapter")), ("general.name", .string(name)),
            ("adapter.type", .string("lora")), ("adapter.lora.alpha", .float32(try alpha(of: adapters))),
        ]
        var tensors: [GGUFTensorData] = []
        // Layer order, then the linear order of the model, as the converter walks the state dict.
        let modules = adapters.keys.sorted { a, b in
            let la = layerIndex(a), lb = layerIndex(b)
            if la != lb { return la < lb }
            func order(_ module: String) -> Int { LinearSlot.allCases.first { module.hasSuffix($0.moduleName) }?.rawValue ?? 0 }
            return order(a) < order(b)
        }
        for module in modules {
            guard let lora = adapters[module], let base = GGUFNames.ggufName(module + ".weight") else {
                throw ExportError.unsupported("module '\(module)' has no GGUF name")
            }
            var b = lora.b.converted(to: .f32)
            if arch == "llama" {
                if module.hasSuffix("self_attn.q_proj") { b = try GGUFNames.permuteRows(b, heads: config.headCount) }
                if module.hasSuffix("self_attn.k_proj") { b = try GGUFNames.permuteRows(b, heads: config.kvHeadCount) }
            }
            tensors.append(try GGUFTensorData(name: base + ".lora_a", tensor: lora.a.converted(to: .f32), as: .F32))
            tensors.append(try GGUFTensorData(name: base + ".lora_b", tensor: b, as: .F32))
        }
        return (metadata, tensors)
    }

    static func layerIndex(_ module: String) -> Int {
        let parts = module.split(separator: ".")
        return parts.count > 2 ? Int(parts[2]) ?? 0 : 0
    }

    /// Writes the adapter file atomically; `check` runs on the complete temporary file before the rename.
    public static func write(adapters: [String: LoRAAdapter], config: ModelConfig, name: String, to url: URL,
                             overwrite: Bool = false, check: (URL) throws -> Void = { _ in }) throws {
        let (metadata, tensors) = try contents(adapters: adapters, config: config, name: name)
        try AtomicOutput.writeFile(url, overwrite: overwrite) { temp in
            try GGUFWriter.write(metadata: metadata, tensors: tensors, to: temp)
            try check(temp)
        }
    }
}
