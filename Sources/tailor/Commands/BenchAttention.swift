// `tailor bench attention`: the blocked attention kernel against the materialising one it replaced, interleaved.
import ArgumentParser
import Foundation
import TailorKernels
import TailorTensor

struct BenchAttention: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Attention forward + backward: the blocked kernel (online softmax) against the previous one that kept the probabilities.",
        discussion: "Rounds alternate the kernels; medians are reported. Defaults are SmolLM2-135M's attention (9 heads, 3 kv heads, head size 64).")

    @Option(help: "Rows per batch.") var batchSize = 8
    @Option(help: "Sequence lengths, comma-separated.") var sequenceLengths = "256,1024"
    @Option(help: "Query heads.") var heads = 9
    @Option(help: "Key/value heads.") var kvHeads = 3
    @Option(help: "Head size.") var headDim = 64
    @Option(help: "Rounds (each runs both kernels once).") var rounds = 5
    @Flag(help: "Print JSON.") var json = false

    struct Row: Encodable {
        var kernel: String
        var batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int
        var forwardSeconds: Double, backwardSeconds: Double
        /// Bytes the forward keeps for the backward besides q, k, v and the output.
        var savedBytes: Int
    }

    func run() throws {
        let lengths = sequenceLengths.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !lengths.isEmpty, lengths.allSatisfy({ (1...32_768).contains($0) }), (1...1024).contains(batchSize),
              (1...256).contains(heads), (1...256).contains(kvHeads), heads % kvHeads == 0, (1...1024).contains(headDim),
              (1...1000).contains(rounds) else {
            throw ValidationError("need lengths in 1...32768, 1 ≤ --batch-size ≤ 1024, kv heads dividing heads (≤ 256), head size ≤ 1024, 1 ≤ --rounds ≤ 1000")
        }
        var rows: [Row] = []
        for t in lengths {
            let s = AttentionShape(batch: batchSize, queryLength: t, keyLength: t, heads: heads, kvHeads: kvHeads, headDim: headDim)
            var rng = SplitMix64(seed: 1)
            func random(_ shape: [Int]) -> Tensor {
                Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(rng.next() >> 40) / Float(1 << 23) - 1 })
            }
            let q = random([batchSize * t, heads * headDim]), dO = random([batchSize * t, heads * headDim])
            let k = random([batchSize * t, kvHeads * headDim]), v = random([batchSize * t, kvHeads * headDim])
            var times: [AttentionBenchmark.Kernel: [(Double, Double, Int)]] = [:]
            for kernel in AttentionBenchmark.Kernel.allCases {   // warm-up
                _ = AttentionBenchmark.time(kernel, shape: s, query: q, key: k, value: v, dOutput: dO)
            }
            for round in 0..<rounds {
                let order = round % 2 == 0 ? AttentionBenchmark.Kernel.allCases : AttentionBenchmark.Kernel.allCases.reversed()
                for kernel in order {
                    let r = AttentionBenchmark.time(kernel, shape: s, query: q, key: k, value: v, dOutput: dO)
                    times[kernel, default: []].append((r.forward, r.backward, r.savedBytes))
                }
            }
            for kernel in AttentionBenchmark.Kernel.allCases {
                let all = times[kernel] ?? []
                func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
                rows.append(Row(kernel: kernel.rawValue, batch: batchSize, sequenceLength: t, heads: heads, kvHeads: kvHeads,
                                headDim: headDim, forwardSeconds: median(all.map(\.0)), backwardSeconds: median(all.map(\.1)),
                                savedBytes: all.first?.2 ?? 0))
            }
        }
        if json { return try printJSON(rows) }
        for r in rows {
            print(String(format: "%@ B=%d T=%d H=%d G=%d D=%d: forward %.2f ms, backward %.2f ms, total %.2f ms, saved %.1f MiB",
                         r.kernel, r.batch, r.sequenceLength, r.heads, r.kvHeads, r.headDim, 1000 * r.forwardSeconds,
                         1000 * r.backwardSeconds, 1000 * (r.forwardSeconds + r.backwardSeconds), Double(r.savedBytes) / 1_048_576))
        }
    }
}
