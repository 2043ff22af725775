// Keys and values of past tokens, per layer, for incremental decoding.
import TailorFormats
import TailorKernels
import TailorTensor

/// Per-layer keys and values of the tokens seen so far: `[B, capacity, G·D]` each, filled up to `length`.
public struct KVCache: Sendable {
    public let batch: Int
    public let capacity: Int
    public private(set) var length: Int = 0
    var keys: [Tensor]
    var values: [Tensor]
    /// Segment of every cached position (`[B, capacity]`, -1 = padding), see `KeySegments`.
    var segments: [Int32]

    /// An empty cache for `batch` sequences of at most `capacity` tokens, holding f32 or f16 values (an f16 cache, as
    /// llama.cpp keeps by default, rounds each key and value once to nearest even, 11 significant bits, and halves
    /// what decoding reads of it; values past ±65,504 become infinite).
    public init(configuration c: ModelConfig, batch: Int, capacity: Int, dtype: DType = .f32) {
        precondition([.f32, .f16].contains(dtype), "KV cache: \(dtype)")
        self.batch = batch
        self.capacity = capacity
        let width = c.kvHeadCount * c.headDim
        keys = (0..<c.layerCount).map { _ in Tensor(zeros: [batch * capacity, width], dtype: dtype) }
        values = keys
        segments = [Int32](repeating: -1, count: batch * capacity)
    }

    /// Bytes held by the cache.
    public var byteCount: Int { keys.reduce(0) { $0 + $1.byteCount } * 2 }

    /// Copies `count` new rows per batch entry (`new` is `[B·count, G·D]`) into layer `layer` at `length`.
    mutating func append(layer: Int, keys newKeys: Tensor, values newValues: Tensor, count: Int) {
        precondition(length + count <= capacity, "KV cache full: \(length) + \(count) > \(capacity)")
        writeCacheRows(newKeys, into: &keys[layer], batch: batch, capacity: capacity, start: length, count: count)
        writeCacheRows(newValues, into: &values[layer], batch: batch, capacity: capacity, start: length, count: count)
    }

    /// Records the segments of `count` new positions and advances `length`; call after every layer appended.
    mutating func advance(count: Int, segments newSegments: [Int32]) {
        for b in 0..<batch {
            for t in 0..<count { segments[b * capacity + length + t] = newSegments[b * count + t] }
        }
        length += count
    }
}

extension LlamaModel {
    /// The dtype of this model's KV caches: f16 when its products run in bf16 (bf16 and int8 inference; llama.cpp's
    /// default cache), f32 otherwise (the precision the parity tests check). f16 rather than bf16: 11 significant
    /// bits keep the greedy replies that 8 would change.
    public var kvCacheDType: DType { weights.outputPrecision == .bf16 ? .f16 : .f32 }

    /// An empty cache in `kvCacheDType` for `batch` sequences of at most `capacity` tokens.
    public func emptyCache(batch: Int, capacity: Int) -> KVCache {
        KVCache(configuration: configuration, batch: batch, capacity: capacity, dtype: kvCacheDType)
    }
}
