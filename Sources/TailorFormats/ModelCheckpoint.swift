// Loads a whole model: a folder (config.json + model.safetensors or shards + index) or a .gguf file
// → validated config + tensors under Hugging Face names + per-tensor summaries for `inspect`.
import Foundation
import TailorTensor

/// Where a checkpoint came from.
public enum CheckpointFormat: Sendable, Equatable, CustomStringConvertible {
    case safetensors(sharded: Bool)
    /// `general.file_type` of the GGUF file (0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 7 Q8_0, 15 Q4_K_M, 18 Q6_K, 32 BF16), if set.
    case gguf(fileType: Int?)

    public var description: String {
        switch self {
        case .safetensors(let sharded): sharded ? "safetensors (sharded)" : "safetensors"
        case .gguf(let fileType): "GGUF" + (fileType.map { " (file type \($0))" } ?? "")
        }
    }
}

/// One tensor as stored in the file, for `inspect`.
public struct TensorSummary: Sendable, Equatable {
    /// Hugging Face name (the file's own name when it has no HF counterpart).
    public var name: String
    /// The name in the file (GGUF names differ from HF names).
    public var storedName: String
    /// Row-major shape.
    public var shape: [Int]
    /// Stored type as the file names it: "BF16", "F32", "Q4_1", "Q8_0"…
    public var storedType: String
    /// Bytes occupied in the file.
    public var byteCount: Int
}

/// Where a lazy checkpoint reads its tensors from.
private enum TensorSource: @unchecked Sendable {
    case safetensors([String: SafeTensorsFile])
    case gguf(GGUFFile)
}

/// A loaded model checkpoint: configuration, tensors keyed by Hugging Face name, and what the file held.
///
/// safetensors tensors keep their stored dtype and view the memory-mapped file; GGUF quantized tensors are
/// decoded to f32 (F16/BF16 stay as stored), llama Q/K rows are put back in HF order, and a missing
/// `output.weight` means tied embeddings (`config.tieWordEmbeddings`, no `lm_head.weight` entry).
/// With `eager: false` nothing is decoded up front: `tensors` starts empty and `tensor(_:)` decodes on demand
/// (useful for large quantized GGUF files, where the f32 copies would not fit in memory at once).
public struct ModelCheckpoint: Sendable {
    public var config: ModelConfig
    /// Tensors under Hugging Face names (empty when loaded with `eager: false`).
    public var tensors: [String: Tensor]
    /// Row-major shape of every model tensor, by Hugging Face name.
    public var tensorShapes: [String: [Int]]
    /// Every tensor of the file(s), in file order.
    public var summaries: [TensorSummary]
    public var format: CheckpointFormat
    /// The GGUF file, for its tokenizer metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`).
    public var gguf: GGUFFile?
    public var sourceURL: URL
    private let source: TensorSource

    /// Loads `url`: a .gguf file, a .safetensors file (config.json beside it), or a folder holding config.json and
    /// model.safetensors or model.safetensors.index.json with its shards. Checks every tensor the config requires
    /// (names and shapes) before decoding anything; `eager` decodes all tensors into `tensors` right away.
    public static func load(from url: URL, eager: Bool = true) throws -> ModelCheckpoint {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw FormatError.fileNotFound(path: url.path)
        }
        var checkpoint: ModelCheckpoint
        if !isDirectory.boolValue {
            if url.pathExtension.lowercased() == "safetensors" {
                checkpoint = try loadSafeTensors(folder: url.deletingLastPathComponent(), single: url)
            } else {
                checkpoint = try loadGGUF(url)
            }
        } else {
            let single = url.appendingPathComponent("model.safetensors")
            let index = url.appendingPathComponent("model.safetensors.index.json")
            let ggufs = (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.filter { $0.hasSuffix(".gguf") } ?? []
            if FileManager.default.fileExists(atPath: single.path) {
                checkpoint = try loadSafeTensors(folder: url, single: single)
            } else if FileManager.default.fileExists(atPath: index.path) {
                checkpoint = try loadSafeTensors(folder: url, index: index)
            } else if ggufs.count == 1 {
                checkpoint = try loadGGUF(url.appendingPathComponent(ggufs[0]))
            } else {
                throw FormatError.fileNotFound(path: single.path)
            }
        }
        if eager {
            for name in checkpoint.tensorShapes.keys { checkpoint.tensors[name] = try checkpoint.tensor(name) }
        }
        return checkpoint
    }

    /// The tensor `name` (Hugging Face naming): from `tensors` if loaded, otherwise read (and for GGUF decoded and
    /// un-permuted) from the file now.
    public func tensor(_ name: String) throws -> Tensor {
        if let loaded = tensors[name] { return loaded }
        switch source {
        case .safetensors(let files):
            guard let file = files[name] else { throw FormatError.missingTensor(path: sourceURL.path, tensor: name) }
            return try file.tensor(name)
        case .gguf(let file):
            guard let ggufName = GGUFNames.ggufName(name, architecture: file.architecture), file.info(ggufName) != nil else {
                throw FormatError.missingTensor(path: sourceURL.path, tensor: name)
            }
            let tensor = try file.tensor(ggufName)
            // llama.cpp's Gemma converter stores norm weights as 1 + w (what its kernel multiplies by); undo it.
            if config.normWeightOffset != 0 && name.hasSuffix("norm.weight") {
                return tensor.converted(to: .f32).adding(-config.normWeightOffset)
            }
            // llama.cpp runs "llama" with adjacent-pair RoPE and permutes q/k rows to match; undo it (spec §4.6).
            guard config.modelType == "llama" else { return tensor }
            if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") {
                return try GGUFNames.unpermuteRows(tensor, heads: config.headCount)
            }
            if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") {
                return try GGUFNames.unpermuteRows(tensor, heads: config.kvHeadCount)
            }
            return tensor
        }
    }

    private static func loadSafeTensors(folder: URL, single: URL? = nil, index: URL? = nil) throws -> ModelCheckpoint {
        var config = try ModelConfig.load(from: folder.appendingPathComponent("config.json"))
        var files: [String: SafeTensorsFile] = [:]
        var shapes: [String: [Int]] = [:]
        var summaries: [TensorSummary] = []
        func add(_ file: SafeTensorsFile) throws {
            for info in file.infos {
                guard files[info.name] == nil else { throw FormatError.duplicateTensor(path: file.url.path, tensor: info.name) }
                files[info.name] = file
                shapes[info.name] = info.shape
                summaries.append(TensorSummary(name: info.name, storedName: info.name, shape: info.shape,
                                               storedType: info.dtype.rawValue, byteCount: info.byteCount))
            }
        }
        let source: URL
        if let single {
            source = single
            try add(SafeTensorsFile(url: single))
        } else if let index {
            source = index
            let sharded = try ShardedSafeTensors(indexURL: index)
            for shard in sharded.shards { try add(shard) }
        } else {
            throw FormatError.fileNotFound(path: folder.appendingPathComponent("model.safetensors").path)
        }
        // transformers drops lm_head.weight when embeddings are tied; a file without it is tied (spec §3.3).
        if shapes["lm_head.weight"] == nil && !config.tieWordEmbeddings { config.tieWordEmbeddings = true }
        try config.checkTensors(shapes, path: source.path)
        return ModelCheckpoint(config: config, tensors: [:], tensorShapes: shapes, summaries: summaries,
                               format: .safetensors(sharded: index != nil), gguf: nil, sourceURL: source,
                               source: .safetensors(files))
    }

    private static func loadGGUF(_ url: URL) throws -> ModelCheckpoint {
        let file = try GGUFFile(url: url)
        let config = try ModelConfig(gguf: file)
        let summaries = file.tensorInfos.map {
            TensorSummary(name: GGUFNames.hfName($0.name, architecture: file.architecture) ?? $0.name, storedName: $0.name, shape: $0.shape,
                          storedType: $0.typeName, byteCount: $0.byteCount)
        }
        // rope_freqs.weight and rope_factors_long/short.weight have no HF name: they are folded into config.ropeScaling.
        var shapes: [String: [Int]] = [:]
        for info in file.tensorInfos {
            if let hf = GGUFNames.hfName(info.name, architecture: file.architecture) { shapes[hf] = info.shape }
        }
        try config.checkTensors(shapes, path: url.path)
        return ModelCheckpoint(config: config, tensors: [:], tensorShapes: shapes, summaries: summaries,
                               format: .gguf(fileType: file.metadata[GGUFKey.fileType]?.intValue), gguf: file,
                               sourceURL: url, source: .gguf(file))
    }

    /// Total elements over the model's tensors (HF names; tied embeddings counted once).
    public var parameterCount: Int { tensorShapes.values.reduce(0) { $0 + $1.reduce(1, *) } }
}
