// Tiny models for the serving tests: the committed tiny Llama (and its LoRA / DoRA adapters) given a byte-level
// tokenizer and the ChatML template, and a larger random model whose replies run long enough to be interrupted.
import Foundation
import TailorFormats
import TailorKernels
import TailorModels
import TailorServe
import TailorTensor
import TailorTestSupport
import XCTest

enum ServeFixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tinyLlama = repository.appendingPathComponent("Tests/TailorModelsTests/Fixtures/tiny-llama")
    static let loraAdapter = repository.appendingPathComponent("Tests/TailorExportTests/Fixtures/tiny-llama/adapter")
    static let doraAdapter = repository.appendingPathComponent("Tests/TailorExportTests/Fixtures/tiny-llama-dora/adapter")

    /// A fresh scratch folder.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The tiny Llama in a folder with a tokenizer: ids 0…253 are bytes (GPT-2 byte-level), 254 = <|im_start|>,
    /// 255 = <|im_end|> (the bytes 0xFE and 0xFF never occur in UTF-8).
    static func tinyChatFolder() throws -> URL {
        let folder = try scratch()
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: tinyLlama.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try writeTokenizer(into: folder)
        return folder
    }

    /// A random model (vocab 256, 4 layers, context 4096) whose greedy replies do not end early: the output rows of
    /// the two special tokens are zero. Used where a reply must still be running when the client goes away.
    static func slowChatFolder() throws -> URL {
        let folder = try scratch()
        let config = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 768,
         "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 256,
         "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": false,
         "bos_token_id": 254, "eos_token_id": 255, "torch_dtype": "float32"}
        """
        try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
        let configuration = try LoadedModel.loadConfiguration(folder)
        var tensors: [(name: String, tensor: Tensor)] = []
        for (i, (name, shape)) in configuration.expectedTensorShapes().enumerated() {
            var t = name.hasSuffix("norm.weight") ? Tensor(shape: shape, values: [Float](repeating: 1, count: shape.reduce(1, *)))
                : Tensor.random(shape, seed: UInt64(i + 1), scale: 0.1)
            if name == "lm_head.weight" {
                t.withUnsafeMutableFloats { w in for j in (254 * shape[1])..<(256 * shape[1]) { w[j] = 0 } }
            }
            tensors.append((name, t))
        }
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent("model.safetensors"))
        try writeTokenizer(into: folder)
        return folder
    }

    /// GPT-2's byte ↦ printable character table.
    static func byteCharacters() -> [String] {
        var bytes = Array(33...126) + Array(161...172) + Array(174...255)
        var chars = bytes
        var extra = 0
        for b in 0..<256 where !bytes.contains(b) {
            bytes.append(b)
            chars.append(256 + extra)
            extra += 1
        }
        var table = [String](repeating: "", count: 256)
        for (b, c) in zip(bytes, chars) { table[b] = String(Character(Unicode.Scalar(UInt32(c))!)) }
        return table
    }

    static func writeTokenizer(into folder: URL) throws {
        let chars = byteCharacters()
        var vocab: [String: Int] = [:]
        for id in 0..<254 { vocab[chars[id]] = id }
        vocab["<|im_start|>"] = 254
        vocab["<|im_end|>"] = 255
        func added(_ id: Int, _ content: String) -> [String: Any] {
            ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true]
        }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        let tokenizer: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": [added(254, "<|im_start|>"), added(255, "<|im_end|>")],
            "normalizer": NSNull(), "pre_tokenizer": byteLevel, "post_processor": NSNull(), "decoder": byteLevel,
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocab, "merges": [String]()] as [String: Any],
        ]
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: folder.appendingPathComponent("tokenizer.json"))
        let config: [String: Any] = ["eos_token": "<|im_end|>", "bos_token": NSNull(), "tokenizer_class": "PreTrainedTokenizerFast"]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("tokenizer_config.json"))
    }

    /// The model in `folder` with the ChatML template, as `tailor serve` loads it.
    static func served(_ folder: URL) throws -> ServedModel {
        let loaded = try LoadedModel.load(from: folder)
        return ServedModel(chat: try ChatModel(loaded: loaded, templateChoice: "chatml"),
                                 contextLength: loaded.checkpoint.config.maxPositionEmbeddings)
    }

    /// `model.generate` with the adapter at `adapter` attached (as `tailor generate --adapter` runs it), greedy.
    static func generateAlone(folder: URL, adapter: URL?, prompt: [Int32], maxNewTokens: Int, stop: Set<Int32>) throws -> [Int32] {
        var loaded = try LoadedModel.load(from: folder)
        if let adapter { loaded = try loaded.applyingAdapter(at: adapter) }
        let options = GenerationOptions(maxNewTokens: maxNewTokens, temperature: 0, stopTokens: stop)
        return loaded.model.generate(prompt: prompt, options: options, backend: CPUBackend())
    }
}

extension ServeFixtures {
    /// A second LoRA adapter for the tiny Llama (the committed one's targets and rank, fresh random A and B), written
    /// as a PEFT folder.
    static func secondLoRAAdapter(base: LlamaWeights) throws -> URL {
        var weights = base
        let config = try PEFTAdapter.load(from: loraAdapter, into: &weights)
        var seed: UInt64 = 100
        for l in weights.layers.indices {
            for slot in LinearSlot.allCases {
                guard var linear = weights.layers[l][linear: slot], var lora = linear.lora else { continue }
                seed += 2
                lora.a = Tensor.random(lora.a.shape, seed: seed, scale: 0.3)
                lora.b = Tensor.random(lora.b.shape, seed: seed + 1, scale: 0.3)
                linear.lora = lora
                weights.layers[l][linear: slot] = linear
            }
        }
        let folder = try scratch().appendingPathComponent("second-lora")
        try PEFTAdapter.save(weights, config: config, to: folder)
        return folder
    }

    /// `base` with one LoRA adapter per layer equal to the sum of `terms` (PEFT's `add_weighted_adapter` with
    /// `combination_type="cat"`): A stacks the A's, B puts the scaled B's side by side, scaling 1. The reference for
    /// several adapters summed in a batch step.
    static func concatenated(_ terms: [ScaledAdapter], onto base: LlamaWeights) -> LlamaWeights {
        var weights = base
        for l in weights.layers.indices {
            for slot in LinearSlot.allCases {
                let parts = terms.compactMap { t in t.adapter.layers[l][slot].map { ($0, t.scale * $0.scaling) } }
                guard !parts.isEmpty, var linear = weights.layers[l][linear: slot] else { continue }
                let a = Tensor(concatenatingRows: parts.map(\.0.a))
                let n = linear.outFeatures, rank = a.shape[0]
                var b = [Float](repeating: 0, count: n * rank)
                var column = 0
                for (lora, factor) in parts {
                    let r = lora.b.shape[1], values = lora.b.floats()
                    for i in 0..<n { for j in 0..<r { b[i * rank + column + j] = factor * values[i * r + j] } }
                    column += r
                }
                linear.lora = LoRAAdapter(a: a, b: Tensor(shape: [n, rank], values: b), scaling: 1)
                weights.layers[l][linear: slot] = linear
            }
        }
        return weights
    }
}

extension LoadedModel {
    /// The Llama configuration of the model folder `folder` (its config.json only).
    static func loadConfiguration(_ folder: URL) throws -> ModelConfig {
        let config = try JSONDecoder().decode(ModelConfig.self, from: Data(contentsOf: folder.appendingPathComponent("config.json")))
        return config
    }
}
