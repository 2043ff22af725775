// Folding LoRA adapters into the base weights: W' = W + Σᵢ wᵢ·sᵢ·(Bᵢ·Aᵢ), computed in f32 (PEFT merge_and_unload,
// spec §2.5); a DoRA adapter gives W' = (m / ‖W + s·B·A‖_row)·(W + s·B·A) (spec §2.4). A 4-bit base is dequantized
// first: the update is never added to 4-bit codes.
// Legend: N output features, K input features, R LoRA rank.
import TailorFormats
import TailorModels
import TailorTensor

/// One adapter set (the adapters a PEFT folder attaches, by linear layer) with its weight in a merge.
public struct WeightedAdapters: Sendable {
    /// Adapters keyed by full module name, e.g. "model.layers.0.self_attn.q_proj".
    public var adapters: [String: LoRAAdapter]
    /// Factor applied to this adapter's update (1 for a plain merge; the soup weights otherwise).
    public var weight: Float
    /// Where the adapter came from, for messages.
    public var source: String

    public init(adapters: [String: LoRAAdapter], weight: Float = 1, source: String) {
        self.adapters = adapters
        self.weight = weight
        self.source = source
    }

    /// The adapters attached to `weights`' linear layers.
    public init(attachedTo weights: LlamaWeights, weight: Float = 1, source: String) {
        var found: [String: LoRAAdapter] = [:]
        for (l, layer) in weights.layers.enumerated() {
            for slot in layer.presentLinears {
                if let lora = layer[linear: slot]?.lora { found["model.layers.\(l).\(slot.moduleName)"] = lora }
            }
        }
        self.init(adapters: found, weight: weight, source: source)
    }
}

/// Merging adapters into dense weights.
public enum LoRAMerge {
    /// The update s·(B·A) `[N, K]` in f32, accumulated over the rank in f32 as PEFT's f32 matmul does, then scaled.
    public static func delta(_ lora: LoRAAdapter) -> [Float] { lora.deltaWeight() }

    /// The base weight of `linear` as f32 `[N, K]`: dense weights converted, packed 4-bit weights dequantized.
    public static func denseBase(_ linear: Linear) -> Tensor {
        if let packed = linear.packed {
            let n = packed.shape[0], k = packed.shape[1]
            var out = Tensor(uninitialized: [n, k], dtype: .f32)
            out.withUnsafeMutableFloats { dst in
                guard let base = dst.baseAddress else { return }
                packed.dequantizeRows(0..<n, into: base)
            }
            return out
        }
        return linear.weight.converted(to: .f32)
    }

    /// A copy of `weights` with every linear layer dense in `dtype`, the updates of `sets` added in f32 before the
    /// cast, and no adapter left (dropout and scaling disappear with it). Embeddings, norms and the head are cast
    /// to `dtype` too. Reports, per merged layer, how much of the update the cast to `precision` erases.
    public static func merge(_ weights: LlamaWeights, adapters sets: [WeightedAdapters], dtype: DType,
                             precision: ExportPrecision? = nil) throws -> (weights: LlamaWeights, report: MergeReport) {
        var out = weights
        var report = MergeReport()
        let known = Set(weights.layers.indices.flatMap { l in weights.layers[l].presentLinears.map { "model.layers.\(l).\($0.moduleName)" } })
        if sets.count > 1, let dora = sets.first(where: { $0.adapters.values.contains(where: \.isDoRA) }) {
            throw ExportError.unsupported("\(dora.source) is a DoRA adapter: DoRA rescales each row by its own magnitude, so "
                + "DoRA adapters cannot be averaged into a soup (hint: merge one DoRA adapter at a time)")
        }
        for set in sets {
            if let stray = set.adapters.keys.sorted().first(where: { !known.contains($0) }) {
                throw ExportError.adapterMismatch(adapter: set.source, reason: "module '\(stray)' is not a linear layer of the model")
            }
        }
        out.embedding = weights.embedding.converted(to: dtype)
        out.lmHead = weights.lmHead?.converted(to: dtype)
        out.finalNorm = weights.finalNorm.converted(to: dtype)
        for l in out.layers.indices {
            out.layers[l].attentionNorm = weights.layers[l].attentionNorm.converted(to: dtype)
            out.layers[l].mlpNorm = weights.layers[l].mlpNorm.converted(to: dtype)
            out.layers[l].qNorm = weights.layers[l].qNorm?.converted(to: dtype)
            out.layers[l].kNorm = weights.layers[l].kNorm?.converted(to: dtype)
            out.layers[l].postAttentionNorm = weights.layers[l].postAttentionNorm?.converted(to: dtype)
            out.layers[l].postMLPNorm = weights.layers[l].postMLPNorm?.converted(to: dtype)
            for slot in weights.layers[l].presentLinears {
                guard let linear = weights.layers[l][linear: slot] else { continue }
                let module = "model.layers.\(l).\(slot.moduleName)"
                let updates = sets.compactMap { set in set.adapters[module].map { (set, $0) } }
                var merged = Linear(weight: Tensor(zeros: [0]), bias: linear.bias?.converted(to: dtype))
                if updates.isEmpty {
                    merged.weight = linear.packed == nil ? linear.weight.converted(to: dtype) : denseBase(linear).converted(to: dtype)
                } else {
                    var w = denseBase(linear)
                    var total = [Float](repeating: 0, count: w.count)
                    for (set, lora) in updates {
                        guard lora.a.shape == [lora.rank, linear.inFeatures], lora.b.shape == [linear.outFeatures, lora.rank] else {
                            throw ExportError.adapterMismatch(adapter: set.source, reason: "\(module): lora_A \(lora.a.shape), "
                                + "lora_B \(lora.b.shape) do not fit a \(linear.outFeatures)×\(linear.inFeatures) weight")
                        }
                        let d = delta(lora)
                        if updates.count == 1 && set.weight == 1 {
                            total = d
                        } else {
                            for i in total.indices { total[i] += set.weight * d[i] }
                        }
                    }
                    if let lora = updates.first?.1, lora.magnitude != nil {
                        // DoRA (one adapter, checked above): W' = (m / ‖W + Δ‖_row)·(W + Δ), the norm of the unmerged
                        // (dequantized) base as PEFT's merge takes it; the reported update is W' − W.
                        let g = try doraScale(lora, base: w.floats(), delta: total, module: module, source: updates[0].0.source)
                        let k = linear.inFeatures
                        w.withUnsafeMutableFloats { base in
                            for i in base.indices {
                                let merged = g[i / k] * (base[i] + total[i])
                                total[i] = merged - base[i]
                                base[i] = merged
                            }
                        }
                    } else {
                        w.withUnsafeMutableFloats { base in
                            for i in base.indices { base[i] += total[i] }
                        }
                    }
                    if let precision {
                        report.add(module: module, PrecisionCheck.measure(merged: w, delta: total, precision: precision))
                    }
                    merged.weight = w.converted(to: dtype)
                }
                out.layers[l][linear: slot] = merged
            }
        }
        return (out, report)
    }

    /// DoRA's row factors m / ‖W + Δ‖ for a merge; a zero or non-finite norm is a broken adapter, not a result.
    static func doraScale(_ lora: LoRAAdapter, base: [Float], delta: [Float], module: String, source: String) throws -> [Float] {
        let n = lora.b.shape[0], k = lora.a.shape[1]
        let norms = DoRA.rowNorms(base: base, delta: delta, rows: n, columns: k)
        let magnitude = (lora.magnitude ?? Tensor(zeros: [0])).converted(to: .f32).floats()
        guard magnitude.count == n else {
            throw ExportError.adapterMismatch(adapter: source, reason: "\(module): lora_magnitude_vector has \(magnitude.count) values for \(n) rows")
        }
        if let row = norms.indices.first(where: { !(norms[$0] > 0 && norms[$0].isFinite) }) {
            throw ExportError.unsupported("\(source): \(module) row \(row) of W + s·B·A has norm \(norms[row]); DoRA cannot rescale it")
        }
        return zip(magnitude, norms).map { $0 / $1 }
    }

    /// The weights under Hugging Face names in checkpoint order; a tied head is not written (spec §3.3).
    public static func stateDict(_ weights: LlamaWeights, configuration: ModelConfig) -> [(String, Tensor)] {
        var out: [(String, Tensor)] = [("model.embed_tokens.weight", weights.embedding)]
        for (l, layer) in weights.layers.enumerated() {
            let p = "model.layers.\(l)."
            out.append((p + "input_layernorm.weight", layer.attentionNorm))
            for slot in layer.presentLinears {
                guard let linear = layer[linear: slot] else { continue }
                let name = slot.moduleName
                out.append((p + name + ".weight", linear.weight))
                if let bias = linear.bias { out.append((p + name + ".bias", bias)) }
            }
            if let qNorm = layer.qNorm { out.append((p + "self_attn.q_norm.weight", qNorm)) }
            if let kNorm = layer.kNorm { out.append((p + "self_attn.k_norm.weight", kNorm)) }
            out.append((p + layer.mlpNormName + ".weight", layer.mlpNorm))
            if let norm = layer.postAttentionNorm { out.append((p + "post_attention_layernorm.weight", norm)) }
            if let norm = layer.postMLPNorm { out.append((p + "post_feedforward_layernorm.weight", norm)) }
        }
        out.append(("model.norm.weight", weights.finalNorm))
        if let head = weights.lmHead, !configuration.tieWordEmbeddings { out.append(("lm_head.weight", head)) }
        return out
    }
}
