// GGUF ⇄ Hugging Face tensor names for llama/qwen2/qwen3/phi3/gemma2/gemma3 (spec §4.5) and the llama Q/K row permutation (spec §4.6).
import TailorTensor

/// Tensor-name mapping between llama.cpp and Hugging Face.
public enum GGUFNames {
    private static let global: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]
    private static let block: [String: String] = [
        "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
        "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
        "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
        "attn_qkv": "self_attn.qkv_proj",
    ]
    /// Phi-3: llama.cpp stores the fused gate and up rows (`mlp.gate_up_proj`, gate first) as `ffn_up`.
    private static let fusedGateUp = (gguf: "ffn_up", hf: "mlp.gate_up_proj")
    /// Gemma 2: norms before and after attention and MLP; `ffn_norm` is the MLP's input norm there.
    private static let gemmaBlock: [String: String] = [
        "ffn_norm": "pre_feedforward_layernorm", "post_attention_norm": "post_attention_layernorm",
        "post_ffw_norm": "post_feedforward_layernorm",
    ]
    /// The GGUF architectures whose block names `gemmaBlock` overrides.
    public static let gemmaArchitectures: Set<String> = ["gemma2", "gemma3"]

    private static func blockNames(_ architecture: String?) -> [String: String] {
        guard let architecture, gemmaArchitectures.contains(architecture) else { return block }
        return block.merging(gemmaBlock) { $1 }
    }

    /// The Hugging Face name of a GGUF tensor (`blk.3.attn_q.bias` → `model.layers.3.self_attn.q_proj.bias`),
    /// or nil for tensors with no HF counterpart (such as `rope_freqs.weight`). `architecture` decides what
    /// `ffn_up` holds (phi3: the fused gate and up rows).
    public static func hfName(_ gguf: String, architecture: String? = nil) -> String? {
        if let name = global[gguf] { return name }
        let parts = gguf.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0,
              parts[3] == "weight" || parts[3] == "bias", var module = blockNames(architecture)[String(parts[2])] else { return nil }
        if architecture == "phi3" && parts[2] == fusedGateUp.gguf { module = fusedGateUp.hf }
        return "model.layers.\(layer).\(module).\(parts[3])"
    }

    /// The GGUF name of a Hugging Face tensor in `architecture` (nil: the llama names), or nil.
    public static func ggufName(_ hf: String, architecture: String? = nil) -> String? {
        if let entry = global.first(where: { $0.value == hf }) { return entry.key }
        let parts = hf.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 5, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]),
              let suffix = parts.last, suffix == "weight" || suffix == "bias" else { return nil }
        let module = parts[3..<(parts.count - 1)].joined(separator: ".")
        if module == fusedGateUp.hf { return "blk.\(layer).\(fusedGateUp.gguf).\(suffix)" }
        guard let entry = blockNames(architecture).first(where: { $0.value == module }) else { return nil }
        return "blk.\(layer).\(entry.key).\(suffix)"
    }

    /// Undoes llama.cpp's Q/K permutation: within each head of `rows / heads` rows, HF row i = GGUF row 2i and
    /// HF row i + hd/2 = GGUF row 2i + 1. Works for weights `[rows, in]` and biases `[rows]`, in any dtype.
    public static func unpermuteRows(_ tensor: Tensor, heads: Int) throws -> Tensor {
        guard tensor.rank >= 1, heads > 0, tensor.shape[0] % heads == 0, (tensor.shape[0] / heads) % 2 == 0 else {
            throw FormatError.invalidArgument(reason: "cannot un-permute \(tensor.shape) over \(heads) heads")
        }
        return permute(tensor, heads: heads, inverse: true)
    }

    /// Applies llama.cpp's permutation (HF → GGUF order); the inverse of `unpermuteRows`.
    public static func permuteRows(_ tensor: Tensor, heads: Int) throws -> Tensor {
        guard tensor.rank >= 1, heads > 0, tensor.shape[0] % heads == 0, (tensor.shape[0] / heads) % 2 == 0 else {
            throw FormatError.invalidArgument(reason: "cannot permute \(tensor.shape) over \(heads) heads")
        }
        return permute(tensor, heads: heads, inverse: false)
    }

    private static func permute(_ tensor: Tensor, heads: Int, inverse: Bool) -> Tensor {
        let rows = tensor.shape[0], hd = rows / heads, half = hd / 2
        let rowBytes = rows == 0 ? 0 : tensor.byteCount / rows
        var out = Tensor(uninitialized: tensor.shape, dtype: tensor.dtype)
        tensor.withUnsafeRawBytes { src in
            out.withUnsafeMutableRawBytes { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                for h in 0..<heads {
                    for i in 0..<hd {
                        // HF row i ↔ GGUF row 2i (first half), HF row half + i ↔ GGUF row 2i + 1.
                        let hf = h * hd + i
                        let gguf = h * hd + (i < half ? 2 * i : 2 * (i - half) + 1)
                        let (to, from) = inverse ? (hf, gguf) : (gguf, hf)
                        (d + to * rowBytes).copyMemory(from: s + from * rowBytes, byteCount: rowBytes)
                    }
                }
            }
        }
        return out
    }
}
