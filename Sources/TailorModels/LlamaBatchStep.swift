// One forward step over requests of different lengths, each with its own KV cache and its own LoRA adapter (or none),
// for continuous batching: the base products run once over all rows, each row adds its own adapter's low-rank term.
// Legend: R requests in the step, T_r new tokens of request r, M = Σ T_r rows, C channels, V vocab, R' LoRA rank.
import TailorTensor

/// An adapter applied to a row, with the factor its own scaling is multiplied by (a request's `"lora": [{"scale"}]`).
public struct ScaledAdapter: Sendable {
    public var adapter: UnmergedAdapter
    public var scale: Float

    public init(_ adapter: UnmergedAdapter, scale: Float = 1) {
        self.adapter = adapter
        self.scale = scale
    }
}

/// One request's part of a batch step.
public struct BatchStepRow: Sendable {
    /// The new tokens (a prompt chunk, or the last generated token).
    public var tokens: [Int32]
    /// The adapters applied to this row, unmerged, their low-rank terms summed (PEFT with several active adapters,
    /// vLLM's multi-LoRA); empty for the base model. A DoRA adapter rescales the whole output, so it must be a row's
    /// only adapter.
    public var adapters: [ScaledAdapter]

    public init(tokens: [Int32], adapters: [ScaledAdapter] = []) {
        precondition(adapters.count <= 1 || !adapters.contains { $0.adapter.configuration.useDoRA },
                     "batch step: a DoRA adapter cannot be combined with others")
        self.tokens = tokens
        self.adapters = adapters
    }

    /// A row with one adapter (or none) at `adapterScale`.
    public init(tokens: [Int32], adapter: UnmergedAdapter?, adapterScale: Float = 1) {
        self.init(tokens: tokens, adapters: adapter.map { [ScaledAdapter($0, scale: adapterScale)] } ?? [])
    }
}

extension LlamaModel {
    /// Logits `[R, V]` of each row's last new token. `caches[r]` (batch 1) holds row r's earlier tokens and receives
    /// the new ones; row r's tokens sit at positions `caches[r].length …`. A row computes what `forward` computes
    /// for it alone with its adapter attached: every op is row-wise except attention, which runs per row.
    public func forwardStep(rows: [BatchStepRow], caches: inout [KVCache], backend: any Backend) -> Tensor {
        precondition(rows.count == caches.count && rows.allSatisfy { !$0.tokens.isEmpty }, "batch step: one cache per non-empty row")
        let counts = rows.map(\.tokens.count)
        let starts = counts.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1) }   // row offsets in M
        let past = caches.map(\.length)
        var positions: [Int32] = []
        for (r, n) in counts.enumerated() { positions += (0..<n).map { Int32(past[r] + $0) } }
        let angles = rotaryAngles(positions: positions, backend: backend)
        let localAngles = localRotaryAngles(positions: positions, backend: backend)
        let groups = AdapterGroups(rows: rows, starts: starts)

        var h = embed(rows.flatMap(\.tokens), backend: backend)                             // (M, C)
        for l in weights.layers.indices {
            h = blockForward(l, h, angles: layerAngles(l, global: angles, local: localAngles), backend: backend, project: { slots, linears, x in
                zip(slots, zip(linears, Linear.forward(linears, x, backend: backend))).map { slot, layer in
                    groups.apply(layer.0, layer: l, slot: slot, input: x, base: layer.1, backend: backend)
                }
            }, attend: { l, q, k, v in
                var attended: [Tensor] = []
                for r in rows.indices {
                    let span = starts[r]..<starts[r + 1]
                    attended.append(attendCached(l, q: q.rows(span), k: k.rows(span), v: v.rows(span), count: span.count,
                                                 cache: &caches[r], newSegments: nil, backend: backend).output)
                }
                return AttentionOutput(output: Tensor(concatenatingRows: attended), logSumExp: nil)
            }).output
        }
        for r in rows.indices { caches[r].advance(count: counts[r], segments: [Int32](repeating: 0, count: counts[r])) }
        // Only the last token of each row needs logits: the (M, V) head would dominate a prefill step.
        let last = Tensor(concatenatingRows: rows.indices.map { h.rows((starts[$0 + 1] - 1)..<starts[$0 + 1]) })
        return head(norm(last, weights.finalNorm, backend: backend).output, backend: backend)
    }
}

/// The rows of a step grouped by (adapter, scale), so each adapter's low-rank products run once per group; a row with
/// several adapters is in several groups.
struct AdapterGroups {
    struct Group { var adapter: UnmergedAdapter; var scale: Float; var spans: [Range<Int>] }
    var groups: [Group] = []

    init(rows: [BatchStepRow], starts: [Int]) {
        for (r, row) in rows.enumerated() {
            let span = starts[r]..<starts[r + 1]
            for term in row.adapters {
                if let g = groups.firstIndex(where: { $0.adapter.id == term.adapter.id && $0.scale == term.scale }) {
                    groups[g].spans.append(span)
                } else {
                    groups.append(Group(adapter: term.adapter, scale: term.scale, spans: [span]))
                }
            }
        }
    }

    /// `base` (the base product of every row) with each group's adapter term added to its rows, as `Linear.forward`
    /// adds it: base + s·(x·Aᵀ)·Bᵀ, summed over a row's adapters (DoRA, always alone in its row: rescaled as
    /// `doraOutput` does).
    func apply(_ linear: Linear, layer: Int, slot: LinearSlot, input x: Tensor, base: Tensor, backend: any Backend) -> Tensor {
        var out = base
        for group in groups {
            guard var lora = group.adapter.layers[layer][slot] else { continue }
            if group.scale != 1 {
                lora.scaling *= group.scale
                lora.weightNorm = nil   // DoRA's norm depends on the scaling: recomputed
            }
            let xs = Tensor(concatenatingRows: group.spans.map { x.rows($0) })
            let sofar = Tensor(concatenatingRows: group.spans.map { out.rows($0) })   // base + earlier adapters' terms
            let update = backend.linear(backend.linear(xs, weight: lora.a, bias: nil), weight: lora.b, bias: nil)
            let ys = lora.isDoRA ? linear.doraOutput(base: sofar, update: update, dropped: nil, lora: lora, backend: backend)
                : backend.addScaled(sofar, update, scale: lora.scaling)
            out.replaceRows(group.spans, with: ys)
        }
        return out
    }
}

extension Tensor {
    /// Rows of several tensors of the same row shape and dtype, one after another.
    public init(concatenatingRows parts: [Tensor]) {
        precondition(!parts.isEmpty, "concatenating no tensors")
        if parts.count == 1 { self = parts[0]; return }
        let rowShape = Array(parts[0].shape.dropFirst())
        var out = Tensor(uninitialized: [parts.reduce(0) { $0 + $1.shape[0] }] + rowShape, dtype: parts[0].dtype)
        out.withUnsafeMutableRawBytes { dst in
            var offset = 0
            for part in parts {
                precondition(Array(part.shape.dropFirst()) == rowShape && part.dtype == parts[0].dtype, "concatenating \(part) to \(parts[0])")
                part.withUnsafeRawBytes { src in
                    guard let from = src.baseAddress, let to = dst.baseAddress else { return }
                    (to + offset).copyMemory(from: from, byteCount: src.count)
                    offset += src.count
                }
            }
        }
        self = out
    }

    /// Overwrites the rows in `spans` (in order) with the rows of `source`.
    mutating func replaceRows(_ spans: [Range<Int>], with source: Tensor) {
        let rowBytes = shape.dropFirst().reduce(1, *) * dtype.byteSize
        precondition(source.dtype == dtype && source.shape[0] == spans.reduce(0) { $0 + $1.count }, "replacing rows: \(source) into \(self)")
        source.withUnsafeRawBytes { src in
            withUnsafeMutableRawBytes { dst in
                var offset = 0
                for span in spans {
                    let n = span.count * rowBytes
                    (dst.baseAddress! + span.lowerBound * rowBytes).copyMemory(from: src.baseAddress! + offset, byteCount: n)
                    offset += n
                }
            }
        }
    }
}
