// Greedy (or sampled) generation for many prompts at once: prompts are left-padded to one length, padding is
// masked by segment -1 and every row gets its own position ids, so each row computes what it would alone.
import TailorModels
import TailorTensor

/// Generates replies for a list of prompts in batches.
public enum BatchedGeneration {
    /// New tokens per prompt (a final stop token included when produced), in the order of `prompts`.
    ///
    /// Layout of one batch of B prompts, longest length T: row b is `pad(T − n_b) ++ prompt_b`; prompt token i of
    /// row b sits at cache slot `T − n_b + i` with position id i. Decode step s appends one token per row at slot
    /// `T + s` with position `n_b + s`. Finished rows keep running (their tokens are ignored) so the batch stays
    /// rectangular.
    /// - Parameter onRow: called with each prompt index and its finished tokens, e.g. for progress.
    public static func generate(prompts: [[Int32]], model: LlamaModel, options: GenerationOptions, batchSize: Int,
                                backend: any Backend,
                                onRow: (Int, [Int32]) -> Void = { _, _ in }) -> [[Int32]] {
        var results = [[Int32]](repeating: [], count: prompts.count)
        // Similar lengths together: less padding.
        let order = prompts.indices.sorted { prompts[$0].count > prompts[$1].count }
        var start = 0
        while start < order.count {
            let chunk = Array(order[start..<min(order.count, start + max(1, batchSize))])
            let produced = generateBatch(chunk.map { prompts[$0] }, model: model, options: options, backend: backend)
            for (index, tokens) in zip(chunk, produced) {
                results[index] = tokens
                onRow(index, tokens)
            }
            start += chunk.count
        }
        return results
    }

    static func generateBatch(_ prompts: [[Int32]], model: LlamaModel, options: GenerationOptions,
                              backend: any Backend) -> [[Int32]] {
        let b = prompts.count, v = model.configuration.vocabSize
        let t = prompts.map(\.count).max() ?? 0
        guard t > 0, options.maxNewTokens > 0 else { return prompts.map { _ in [] } }
        var tokens = [Int32](repeating: 0, count: b * t)
        var positions = [Int32](repeating: 0, count: b * t)
        var segments = [Int32](repeating: -1, count: b * t)
        for (row, prompt) in prompts.enumerated() {
            let pad = t - prompt.count
            for (i, id) in prompt.enumerated() {
                tokens[row * t + pad + i] = id
                positions[row * t + pad + i] = Int32(i)
                segments[row * t + pad + i] = 0
            }
        }
        // The cache never grows past the model's context, whatever was asked for.
        let budget = min(options.maxNewTokens, max(1, model.configuration.contextLength - t))
        var cache: KVCache? = model.emptyCache(batch: b, capacity: t + budget)
        var samplers = (0..<b).map { row in
            var o = options
            o.seed = options.seed &+ UInt64(row)
            return TokenSampler(options: o)
        }
        // Left-padded, so every row's prompt ends at position t - 1: the logits of that position only.
        var logits = model.lastPositionLogits(tokens: tokens, batch: b, positions: positions, segments: segments,
                                              cache: &cache, backend: backend)
        var produced = [[Int32]](repeating: [], count: b)
        var done = [Bool](repeating: false, count: b)
        for step in 0..<budget {
            var next = [Int32](repeating: 0, count: b)
            logits.withUnsafeFloats { l in
                for row in 0..<b where !done[row] {
                    let base = row * v
                    next[row] = samplers[row].pick(from: UnsafeBufferPointer(rebasing: l[base..<(base + v)]))
                    produced[row].append(next[row])
                    if options.stopTokens.contains(next[row]) || produced[row].count == budget { done[row] = true }
                }
            }
            if done.allSatisfy({ $0 }) || step == budget - 1 { break }
            let stepPositions = (0..<b).map { Int32(prompts[$0].count + step) }
            // A finished row's new slot is padding: nobody attends to it.
            let stepSegments = (0..<b).map { produced[$0].count == step + 1 && !done[$0] ? Int32(0) : Int32(-1) }
            logits = model.forward(tokens: next, batch: b, positions: stepPositions, segments: stepSegments,
                                   cache: &cache, backend: backend)
        }
        return produced
    }
}
