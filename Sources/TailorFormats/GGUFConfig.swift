// GGUF metadata → ModelConfig for architectures llama, qwen2, qwen3, phi3, gemma2 and gemma3 (spec §4.3), including llama3 RoPE
// recovered from the rope_freqs.weight tensor and Phi-3's LongRoPE from rope_factors_long/short.weight.
import Foundation
import TailorTensor

extension ModelConfig {
    /// The configuration described by a GGUF file's metadata (and, for tying and biases, its tensor list).
    public init(gguf: GGUFFile) throws {
        let path = gguf.url.path
        let m = gguf.metadata
        guard let arch = gguf.architecture else {
            throw FormatError.invalidConfig(path: path, field: GGUFKey.architecture, reason: "missing")
        }
        guard Self.ggufArchitectures.contains(arch) else { throw FormatError.unsupportedArchitecture(path: path, name: arch) }
        func int(_ key: String) throws -> Int? {
            guard let value = m["\(arch).\(key)"] else { return nil }
            guard let v = value.intValue else {
                throw FormatError.invalidConfig(path: path, field: "\(arch).\(key)", reason: "expected an integer, got \(value.typeName)")
            }
            return v
        }
        func required(_ key: String) throws -> Int {
            guard let v = try int(key) else { throw FormatError.invalidConfig(path: path, field: "\(arch).\(key)", reason: "missing") }
            return v
        }
        func double(_ key: String) throws -> Double? {
            guard let value = m["\(arch).\(key)"] else { return nil }
            guard let v = value.doubleValue else {
                throw FormatError.invalidConfig(path: path, field: "\(arch).\(key)", reason: "expected a number, got \(value.typeName)")
            }
            return v
        }
        let hidden = try required(GGUFKey.embeddingLength)
        let heads = try required(GGUFKey.headCount)
        guard let eps = try double(GGUFKey.rmsEpsilon) else {
            throw FormatError.invalidConfig(path: path, field: "\(arch).\(GGUFKey.rmsEpsilon)", reason: "missing")
        }
        let embedding = gguf.info("token_embd.weight")
        let vocab = try int(GGUFKey.vocabSize) ?? m["tokenizer.ggml.tokens"]?.arrayValue?.count ?? embedding?.shape.first
        guard let vocab else { throw FormatError.invalidConfig(path: path, field: "\(arch).\(GGUFKey.vocabSize)", reason: "missing") }
        let fileType = m[GGUFKey.fileType]?.intValue
        let dtype: String? = switch fileType { case 0: "float32"; case 1: "float16"; case 32: "bfloat16"; default: nil }
        let tokenID = { (key: String) in m["tokenizer.ggml.\(key)"]?.intValue }
        self.init(modelType: arch == "gemma3" ? "gemma3_text" : arch, vocabSize: vocab, hiddenSize: hidden,
                  intermediateSize: try required(GGUFKey.feedForwardLength), layerCount: try required(GGUFKey.blockCount),
                  headCount: heads, kvHeadCount: try int(GGUFKey.headCountKV),
                  headDim: try int(GGUFKey.keyLength),
                  maxPositionEmbeddings: try int(GGUFKey.contextLength) ?? 2048,
                  rmsNormEps: eps, ropeTheta: try double(GGUFKey.ropeFreqBase) ?? 10000,
                  attentionBias: arch == "llama" && gguf.info("blk.0.attn_q.bias") != nil,
                  mlpBias: gguf.info("blk.0.ffn_gate.bias") != nil,
                  tieWordEmbeddings: gguf.info("output.weight") == nil,
                  bosTokenID: tokenID("bos_token_id"), eosTokenIDs: tokenID("eos_token_id").map { [$0] } ?? [],
                  padTokenID: tokenID("padding_token_id"), torchDtype: dtype)
        switch m["\(arch).\(GGUFKey.ropeScalingType)"]?.stringValue {
        case nil, "none":
            break
        case "linear":
            guard let factor = try double(GGUFKey.ropeScalingFactor) else {
                throw FormatError.invalidConfig(path: path, field: "\(arch).\(GGUFKey.ropeScalingFactor)", reason: "missing for linear scaling")
            }
            ropeScaling = .linear(factor: factor)
        case let other?:
            throw FormatError.invalidConfig(path: path, field: "\(arch).\(GGUFKey.ropeScalingType)",
                                            reason: "'\(other)' is not supported (hint: none and linear are)")
        }
        if arch == "phi3" {
            // llama.cpp's phi3: key/value head size is embedding_length / head_count, no key_length key.
            if let window = try int(GGUFKey.slidingWindow), window > 0 {
                slidingWindow = window
                useSlidingWindow = true
            }
            if gguf.info(GGUFKey.ropeFactorsLong) != nil || gguf.info(GGUFKey.ropeFactorsShort) != nil {
                let long = try gguf.tensor(GGUFKey.ropeFactorsLong).converted(to: .f32).floats().map(Double.init)
                let short = try gguf.tensor(GGUFKey.ropeFactorsShort).converted(to: .f32).floats().map(Double.init)
                let original = try int(GGUFKey.ropeScalingOriginalContextLength) ?? maxPositionEmbeddings
                ropeScaling = .longRoPE(shortFactor: short, longFactor: long, originalMaxPositionEmbeddings: original,
                                        factor: nil, attentionFactor: try double(GGUFKey.ropeScalingAttentionFactor))
            }
        }
        if arch == "gemma2" || arch == "gemma3" {
            // llama.cpp's gemma2: window 4096 on even layers, caps 50 and 30 unless given; gemma3: five sliding
            // layers of six, no caps, local RoPE base 10000 unless given. The score scale from attention.scale when
            // present, else llama.cpp's rule (the 27B — 46 layers in Gemma 2, 62 in Gemma 3: hidden / heads; else
            // head_dim).
            let gemma2 = arch == "gemma2"
            slidingWindow = try int(GGUFKey.slidingWindow) ?? 4096
            useSlidingWindow = (slidingWindow ?? 0) > 0
            attentionLogitSoftCap = try double(GGUFKey.attentionLogitSoftCap) ?? (gemma2 ? 50 : nil)
            finalLogitSoftCap = try double(GGUFKey.finalLogitSoftCap) ?? (gemma2 ? 30 : nil)
            if !gemma2 { localRopeTheta = try double(GGUFKey.ropeFreqBaseSWA) ?? 10000 }
            if let scale = try double(GGUFKey.attentionScale) {
                guard scale > 0 && scale.isFinite else {
                    throw FormatError.invalidConfig(path: path, field: "\(arch).\(GGUFKey.attentionScale)", reason: "must be positive, got \(scale)")
                }
                // The key holds f32 scale = scalar^-0.5: a whole scalar (the usual case) is recovered exactly.
                let scalar = 1 / (scale * scale)
                queryPreAttentionScalar = abs(scalar - scalar.rounded()) < 1e-4 * scalar ? scalar.rounded() : scalar
            } else {
                queryPreAttentionScalar = Double(layerCount == (gemma2 ? 46 : 62) ? hiddenSize / max(1, headCount) : headDim)
            }
        }
        if gguf.info("rope_freqs.weight") != nil {
            let divisors = try gguf.tensor("rope_freqs.weight").converted(to: .f32).floats()
            ropeScaling = try Self.llama3Scaling(divisors: divisors, theta: ropeTheta, headDim: headDim, path: path)
        }
        try validate(path: path)
    }

    /// Recovers llama3 parameters from `rope_freqs.weight`. The divisors fix `factor` (their maximum) but not the
    /// other three parameters uniquely, so the ones used by every Llama 3.x release are tried and the one that
    /// reproduces the tensor (within 1e-4 relative, the f32 rounding of the converter) is taken.
    static func llama3Scaling(divisors: [Float], theta: Double, headDim: Int, path: String) throws -> RopeScaling? {
        guard divisors.count == headDim / 2 else {
            throw FormatError.badTensor(path: path, tensor: "rope_freqs.weight",
                                        reason: "has \(divisors.count) values, expected head_dim/2 = \(headDim / 2)")
        }
        guard let factor = divisors.max().map(Double.init), factor.isFinite else { return nil }
        if abs(factor - 1) < 1e-6 && divisors.allSatisfy({ abs($0 - 1) < 1e-6 }) { return nil }
        for (low, high) in [(1.0, 4.0), (1.0, 2.0), (1.0, 8.0), (1.0, 32.0)] {
            for original in [8192.0, 4096, 2048, 16384, 32768, 65536, 131072] {
                let expected = llama3Divisors(theta: theta, headDim: headDim, factor: factor, low: low, high: high, original: original)
                if zip(expected, divisors).allSatisfy({ abs($0 - Double($1)) <= 1e-4 * max(1, abs($0)) }) {
                    return .llama3(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: Int(original))
                }
            }
        }
        throw FormatError.badTensor(path: path, tensor: "rope_freqs.weight",
                                    reason: "frequency divisors do not match any known llama3 rope scaling (factor \(factor))")
    }
}
