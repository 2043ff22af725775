// config.json ⇄ ModelConfig: reads transformers 4.x and 5.x keys, writes the 5.x form (sorted keys, indent 2).
import Foundation
import TailorText

/// Typed access to config.json fields; every failure names the file and the key.
private struct ConfigFields {
    let json: JSONValue
    let path: String

    func present(_ key: String) -> JSONValue? {
        guard let value = json[key], !value.isNull else { return nil }
        return value
    }
    func int(_ key: String) throws -> Int? {
        guard let value = present(key) else { return nil }
        guard let v = value.intValue else { throw FormatError.invalidConfig(path: path, field: key, reason: "expected an integer") }
        return v
    }
    func requiredInt(_ key: String) throws -> Int {
        guard let v = try int(key) else { throw FormatError.invalidConfig(path: path, field: key, reason: "missing") }
        return v
    }
    func double(_ key: String, in object: JSONValue? = nil, prefix: String = "") throws -> Double? {
        guard let value = (object ?? json)[key], !value.isNull else { return nil }
        guard let v = value.doubleValue else { throw FormatError.invalidConfig(path: path, field: prefix + key, reason: "expected a number") }
        return v
    }
    func bool(_ key: String) throws -> Bool? {
        guard let value = present(key) else { return nil }
        guard let v = value.boolValue else { throw FormatError.invalidConfig(path: path, field: key, reason: "expected true or false") }
        return v
    }
    func string(_ key: String) throws -> String? {
        guard let value = present(key) else { return nil }
        guard let v = value.stringValue else { throw FormatError.invalidConfig(path: path, field: key, reason: "expected a string") }
        return v
    }
}

extension ModelConfig {
    init(json: JSONValue, path: String) throws {
        guard json.members != nil else { throw FormatError.corrupt(path: path, offset: 0, reason: "config is not a JSON object") }
        let f = ConfigFields(json: json, path: path)
        guard let modelType = try f.string("model_type") else {
            throw FormatError.invalidConfig(path: path, field: "model_type", reason: "missing")
        }
        guard ModelConfig.supportedModelTypes[modelType] != nil else {
            throw FormatError.unsupportedArchitecture(path: path, name: modelType)
        }
        let heads = try f.requiredInt("num_attention_heads")
        let hidden = try f.requiredInt("hidden_size")
        let defaultMaxPositions = ["llama": 2048, "mistral": 131072, "qwen2": 32768, "qwen3": 40960, "phi3": 4096,
                                   "gemma2": 8192, "gemma3_text": 131072][modelType] ?? 2048
        let gemma = ModelConfig.gemmaModelTypes.contains(modelType)
        self.init(modelType: modelType,
                  vocabSize: try f.requiredInt("vocab_size"),
                  hiddenSize: hidden,
                  intermediateSize: try f.requiredInt("intermediate_size"),
                  layerCount: try f.requiredInt("num_hidden_layers"),
                  headCount: heads,
                  kvHeadCount: try f.int("num_key_value_heads"),
                  headDim: try f.int("head_dim") ?? (modelType == "qwen3" ? 128 : gemma ? 256 : nil),   // Qwen3/Gemma2Config's default
                  maxPositionEmbeddings: try f.int("max_position_embeddings") ?? defaultMaxPositions,
                  rmsNormEps: try f.double("rms_norm_eps") ?? (modelType == "phi3" ? 1e-5 : 1e-6),
                  attentionBias: try f.bool("attention_bias") ?? false,
                  mlpBias: try f.bool("mlp_bias") ?? false,
                  tieWordEmbeddings: try f.bool("tie_word_embeddings") ?? gemma,
                  // Absent (not null) token ids take the transformers class defaults: Llama/Mistral 1 and 2, Gemma 2 2 and 1.
                  bosTokenID: json["bos_token_id"] == nil ? (["qwen2", "qwen3"].contains(modelType) ? nil : gemma ? 2 : 1) : try f.int("bos_token_id"),
                  padTokenID: json["pad_token_id"] == nil && (gemma || modelType == "phi3") ? (gemma ? 0 : 32000)
                      : try f.int("pad_token_id"),
                  torchDtype: try f.string("dtype") ?? f.string("torch_dtype"))
        if let list = f.present("architectures") {
            guard let items = list.arrayValue, let names = Optional(items.compactMap(\.stringValue)), names.count == items.count else {
                throw FormatError.invalidConfig(path: path, field: "architectures", reason: "expected a list of strings")
            }
            architectures = names
        }
        if json["eos_token_id"] == nil && !["qwen2", "qwen3"].contains(modelType) {
            eosTokenIDs = [modelType == "phi3" ? 32000 : gemma ? 1 : 2]
        } else if let eos = f.present("eos_token_id") {
            if let id = eos.intValue {
                eosTokenIDs = [id]
            } else if let items = eos.arrayValue, items.allSatisfy({ $0.intValue != nil }) {
                eosTokenIDs = items.compactMap(\.intValue)
            } else {
                throw FormatError.invalidConfig(path: path, field: "eos_token_id", reason: "expected an integer or a list of integers")
            }
        }
        // Gemma2Config's key is hidden_activation (older files also carry hidden_act).
        hiddenAct = try (gemma ? f.string("hidden_activation") : nil) ?? f.string("hidden_act") ?? (gemma ? "gelu_pytorch_tanh" : "silu")
        attentionDropout = try f.double("attention_dropout") ?? 0
        initializerRange = try f.double("initializer_range") ?? 0.02
        slidingWindow = try f.int("sliding_window")
        maxWindowLayers = try f.int("max_window_layers")
        // Mistral and Phi-3 have no switch: a non-null sliding_window is active. Qwen2 gates it with use_sliding_window.
        useSlidingWindow = try f.bool("use_sliding_window") ?? (["mistral", "phi3"].contains(modelType) && slidingWindow != nil)
        // Qwen2Config drops the window size when the window is off (transformers 5.x writes null).
        if ["qwen2", "qwen3"].contains(modelType) && !useSlidingWindow { slidingWindow = nil }
        if gemma { try readGemma(f) }
        if modelType == "gemma3_text" { try readGemma3Rope(f) } else { try readRope(f) }
        try validate(path: path)
    }

    /// Gemma2Config's and Gemma3TextConfig's keys: absent ones take the class defaults (Gemma 3: no soft-caps), null
    /// soft-caps and window switch them off.
    private mutating func readGemma(_ f: ConfigFields) throws {
        func absentOr(_ key: String, _ fallback: Double?) throws -> Double? {
            f.json[key] == nil ? fallback : try f.double(key)
        }
        let gemma2 = modelType == "gemma2"
        queryPreAttentionScalar = try absentOr("query_pre_attn_scalar", 256)
        attentionLogitSoftCap = try absentOr("attn_logit_softcapping", gemma2 ? 50 : nil)
        finalLogitSoftCap = try absentOr("final_logit_softcapping", gemma2 ? 30 : nil)
        if f.json["sliding_window"] == nil { slidingWindow = 4096 }
        useSlidingWindow = slidingWindow != nil
        if let list = f.present("layer_types") {
            guard let items = list.arrayValue, let names = Optional(items.compactMap(\.stringValue)), names.count == items.count else {
                throw FormatError.invalidConfig(path: f.path, field: "layer_types", reason: "expected a list of strings")
            }
            layerTypes = names
        } else {
            // The class default (Gemma 2: even layers slide; Gemma 3: all but every sliding_window_pattern-th, 6),
            // written out so that a saved and re-read config compares equal.
            let pattern = gemma2 ? 2 : try f.int("sliding_window_pattern") ?? f.int("_sliding_window_pattern") ?? 6
            guard pattern > 0 else {
                throw FormatError.invalidConfig(path: f.path, field: "sliding_window_pattern", reason: "must be positive, got \(pattern)")
            }
            layerTypes = (0..<layerCount).map { ($0 + 1) % pattern != 0 ? "sliding_attention" : "full_attention" }
        }
        if try f.bool("use_bidirectional_attention") == true {
            throw FormatError.invalidConfig(path: f.path, field: "use_bidirectional_attention",
                                            reason: "bidirectional (encoder) attention is not supported; Tailor trains causal LMs")
        }
    }

    /// Gemma 3's two RoPE settings. 5.x: `rope_parameters` {full_attention: {…}, sliding_attention: {…}}; 4.x:
    /// `rope_theta` + `rope_scaling` for the global layers, `rope_local_base_freq` for the sliding ones (defaults 1e6
    /// and 1e4, Gemma3TextConfig's). The sliding layers take no scaling.
    private mutating func readGemma3Rope(_ f: ConfigFields) throws {
        guard let params = f.present("rope_parameters"), params["full_attention"] != nil || params["sliding_attention"] != nil else {
            try readRope(f, defaultTheta: 1_000_000)
            localRopeTheta = try f.double("rope_local_base_freq") ?? 10000
            return
        }
        try readRope(f, nested: "full_attention", defaultTheta: 1_000_000)
        let local = params["sliding_attention"]
        if let local, local.members == nil {
            throw FormatError.invalidConfig(path: f.path, field: "rope_parameters.sliding_attention", reason: "expected an object")
        }
        let type = local?["rope_type"]?.stringValue ?? "default"
        guard type == "default" else {
            throw FormatError.invalidConfig(path: f.path, field: "rope_parameters.sliding_attention.rope_type",
                                            reason: "'\(type)' is not supported on sliding layers (hint: default is)")
        }
        localRopeTheta = try f.double("rope_theta", in: local, prefix: "rope_parameters.sliding_attention.") ?? 10000
    }

    /// 5.x: `rope_parameters` {rope_type, rope_theta, scaling keys}; 4.x: top-level `rope_theta` + `rope_scaling`
    /// (whose type key is `rope_type`, or `type` in older files). `nested` picks one layer type's object inside
    /// `rope_parameters` (Gemma 3).
    private mutating func readRope(_ f: ConfigFields, nested: String? = nil, defaultTheta: Double = 10000) throws {
        var key = f.present("rope_parameters") != nil ? "rope_parameters" : "rope_scaling"
        var params = f.present(key)
        if let nested, let inner = params?[nested], !inner.isNull {
            params = inner
            key += "." + nested
        }
        if let params, params.members == nil {
            throw FormatError.invalidConfig(path: f.path, field: key, reason: "expected an object")
        }
        ropeTheta = try f.double("rope_theta", in: params, prefix: key + ".") ?? f.double("rope_theta") ?? defaultTheta
        guard let params else { ropeScaling = nil; return }
        var type = params["rope_type"]?.stringValue ?? params["type"]?.stringValue ?? "default"
        // Phi3Config renames the older types to longrope.
        if f.json["model_type"]?.stringValue == "phi3" && ["su", "yarn"].contains(type) { type = "longrope" }
        if let partial = try f.double("partial_rotary_factor", in: params, prefix: key + ".") ?? f.double("partial_rotary_factor"),
           partial != 1 {
            throw FormatError.invalidConfig(path: f.path, field: "\(key).partial_rotary_factor",
                                            reason: "\(partial) is not supported (RoPE over the whole head only)")
        }
        func number(_ name: String) throws -> Double {
            guard let v = try f.double(name, in: params, prefix: key + ".") else {
                throw FormatError.invalidConfig(path: f.path, field: "\(key).\(name)", reason: "missing for rope_type '\(type)'")
            }
            return v
        }
        switch type {
        case "default":
            ropeScaling = nil
        case "linear":
            ropeScaling = .linear(factor: try number("factor"))
        case "llama3":
            let original = try number("original_max_position_embeddings")
            guard original.rounded() == original, original > 0, original < 1e9 else {
                throw FormatError.invalidConfig(path: f.path, field: "\(key).original_max_position_embeddings",
                                                reason: "expected a positive integer, got \(original)")
            }
            ropeScaling = .llama3(factor: try number("factor"), lowFreqFactor: try number("low_freq_factor"),
                                  highFreqFactor: try number("high_freq_factor"), originalMaxPositionEmbeddings: Int(original))
        case "longrope":
            func factors(_ name: String) throws -> [Double] {
                guard let items = params[name]?.arrayValue, let values = Optional(items.compactMap(\.doubleValue)),
                      values.count == items.count else {
                    throw FormatError.invalidConfig(path: f.path, field: "\(key).\(name)", reason: "expected a list of numbers")
                }
                return values
            }
            // transformers 5.x keeps original_max_position_embeddings in the rope parameters, 4.x at the top level.
            let original = try f.double("original_max_position_embeddings", in: params, prefix: key + ".")
                ?? f.double("original_max_position_embeddings") ?? 4096
            guard original.rounded() == original, original > 0, original < 1e9 else {
                throw FormatError.invalidConfig(path: f.path, field: "original_max_position_embeddings",
                                                reason: "expected a positive integer, got \(original)")
            }
            ropeScaling = .longRoPE(shortFactor: try factors("short_factor"), longFactor: try factors("long_factor"),
                                    originalMaxPositionEmbeddings: Int(original),
                                    factor: try f.double("factor", in: params, prefix: key + "."),
                                    attentionFactor: try f.double("attention_factor", in: params, prefix: key + "."))
        default:
            throw FormatError.invalidConfig(path: f.path, field: "\(key).rope_type",
                                            reason: "'\(type)' is not supported (hint: default, linear, llama3 and longrope are)")
        }
    }

    /// The transformers 5.x config.json object for this configuration.
    var jsonValue: JSONValue {
        var m: [JSONMember] = []
        func put(_ key: String, _ value: JSONValue) { m.append(JSONMember(key: key, value: value)) }
        func optionalInt(_ v: Int?) -> JSONValue { v.map { .int($0) } ?? .null }
        put("architectures", .array(architectures.map { .string($0) }))
        put("attention_dropout", .double(attentionDropout))
        put("bos_token_id", optionalInt(bosTokenID))
        put("dtype", torchDtype.map { .string($0) } ?? .null)
        put("eos_token_id", eosTokenIDs.count == 1 ? .int(eosTokenIDs[0]) : eosTokenIDs.isEmpty ? .null : .array(eosTokenIDs.map { .int($0) }))
        put(isGemma ? "hidden_activation" : "hidden_act", .string(hiddenAct))
        put("hidden_size", .int(hiddenSize))
        put("initializer_range", .double(initializerRange))
        put("intermediate_size", .int(intermediateSize))
        put("max_position_embeddings", .int(maxPositionEmbeddings))
        put("model_type", .string(modelType))
        put("num_attention_heads", .int(headCount))
        put("num_hidden_layers", .int(layerCount))
        put("num_key_value_heads", .int(kvHeadCount))
        put("pad_token_id", optionalInt(padTokenID))
        put("rms_norm_eps", .double(rmsNormEps))
        var rope: [JSONMember] = [JSONMember(key: "rope_theta", value: .double(ropeTheta))]
        switch ropeScaling {
        case nil:
            rope.append(JSONMember(key: "rope_type", value: .string("default")))
        case .linear(let factor):
            rope += [JSONMember(key: "factor", value: .double(factor)), JSONMember(key: "rope_type", value: .string("linear"))]
        case .llama3(let factor, let low, let high, let original):
            rope += [JSONMember(key: "factor", value: .double(factor)),
                     JSONMember(key: "high_freq_factor", value: .double(high)),
                     JSONMember(key: "low_freq_factor", value: .double(low)),
                     JSONMember(key: "original_max_position_embeddings", value: .int(original)),
                     JSONMember(key: "rope_type", value: .string("llama3"))]
        case .longRoPE(let short, let long, let original, let factor, let attentionFactor):
            if let attentionFactor { rope.append(JSONMember(key: "attention_factor", value: .double(attentionFactor))) }
            if let factor { rope.append(JSONMember(key: "factor", value: .double(factor))) }
            rope += [JSONMember(key: "long_factor", value: .array(long.map { .double($0) })),
                     JSONMember(key: "original_max_position_embeddings", value: .int(original)),
                     JSONMember(key: "partial_rotary_factor", value: .double(1)),
                     JSONMember(key: "rope_type", value: .string("longrope")),
                     JSONMember(key: "short_factor", value: .array(short.map { .double($0) }))]
        }
        if let localRopeTheta {
            // Gemma 3: one object per layer type.
            put("rope_parameters", .object([
                JSONMember(key: "full_attention", value: .object(rope)),
                JSONMember(key: "sliding_attention", value: .object([JSONMember(key: "rope_theta", value: .double(localRopeTheta)),
                                                                     JSONMember(key: "rope_type", value: .string("default"))])),
            ]))
        } else {
            put("rope_parameters", .object(rope))
        }
        put("tie_word_embeddings", .bool(tieWordEmbeddings))
        put("transformers_version", .string("5.24.0"))
        put("use_cache", .bool(true))
        put("vocab_size", .int(vocabSize))
        // Family-specific keys, as each transformers config class writes them.
        switch modelType {
        case "llama":
            put("attention_bias", .bool(attentionBias))
            put("head_dim", .int(headDim))
            put("mlp_bias", .bool(mlpBias))
            put("pretraining_tp", .int(1))
        case "mistral":
            put("head_dim", .int(headDim))
            put("sliding_window", optionalInt(slidingWindow))
        case "phi3":
            put("embd_pdrop", .double(0))
            if case .longRoPE(_, _, let original, _, _) = ropeScaling {
                put("original_max_position_embeddings", .int(original))
            } else {
                put("original_max_position_embeddings", .int(maxPositionEmbeddings))
            }
            put("resid_pdrop", .double(0))
            put("sliding_window", optionalInt(slidingWindow))
        case "gemma2", "gemma3_text":
            func optionalDouble(_ v: Double?) -> JSONValue { v.map { .double($0) } ?? .null }
            put("attention_bias", .bool(attentionBias))
            put("attn_logit_softcapping", optionalDouble(attentionLogitSoftCap))
            put("final_logit_softcapping", optionalDouble(finalLogitSoftCap))
            put("head_dim", .int(headDim))
            put("layer_types", .array((0..<layerCount).map { .string(isLocalLayer($0) ? "sliding_attention" : "full_attention") }))
            // An int in Gemma2Config (256, 144): written as one when whole.
            put("query_pre_attn_scalar", queryPreAttentionScalar.map { $0.rounded() == $0 && abs($0) < 1e9 ? .int(Int($0)) : .double($0) } ?? .null)
            put("sliding_window", optionalInt(slidingWindow))
        case "qwen2", "qwen3":
            if modelType == "qwen3" {
                put("attention_bias", .bool(attentionBias))
                put("head_dim", .int(headDim))
            }
            let windowStart = maxWindowLayers ?? 28
            let window = useSlidingWindow ? slidingWindow : nil
            put("layer_types", .array((0..<layerCount).map {
                .string(window != nil && $0 >= windowStart ? "sliding_attention" : "full_attention")
            }))
            put("max_window_layers", .int(windowStart))
            put("sliding_window", optionalInt(window))
            put("use_sliding_window", .bool(useSlidingWindow))
        default: break
        }
        return .object(m)
    }

    /// config.json bytes in the transformers 5.x style: `json.dumps(indent=2, sort_keys=True)` plus a newline.
    public func jsonData() throws -> Data {
        try validate()
        return Data(jsonValue.serialized(.pythonPretty) + [0x0A])
    }

    // MARK: Codable (through the same JSON object, so both paths agree)

    public init(from decoder: any Decoder) throws {
        try self.init(json: try JSONValue(from: decoder), path: "config.json")
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}
