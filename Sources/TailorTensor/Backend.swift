// The seam between model code and compute: every op a model runs goes through a `Backend`.
//
// Shorthand: M rows (B·T tokens), K/N matrix sizes, C channels, F feed-forward width, V vocabulary,
// H query heads, G key/value heads, D head size, Tq query length, Tk key length.

/// Shape of one attention call. Keys and values are stored `[B, keyCapacity, G·D]`; the first `keyLength` rows of
/// each batch entry are filled. Query `i` sits at key position `queryOffset + i` (the length of the KV cache
/// before this call), so causal attention lets it see keys `0...queryOffset + i`.
public struct AttentionShape: Sendable, Equatable {
    public var batch: Int
    public var queryLength: Int
    public var keyLength: Int
    public var keyCapacity: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var queryOffset: Int
    /// Sliding-window attention (Mistral's `sliding_window`): query index p sees key j only when p - j < window,
    /// transformers' `kv_idx > q_idx - sliding_window`; nil for full causal attention.
    public var slidingWindow: Int?
    /// The factor q·k is multiplied by; nil for `head_dim^-0.5` (Gemma 2: `query_pre_attn_scalar^-0.5`).
    public var scale: Float?
    /// Gemma 2's `attn_logit_softcapping`: scaled scores s become `cap·tanh(s/cap)` before masking and softmax.
    public var logitSoftCap: Float?

    public init(batch: Int, queryLength: Int, keyLength: Int, keyCapacity: Int? = nil, heads: Int, kvHeads: Int,
                headDim: Int, queryOffset: Int = 0, slidingWindow: Int? = nil, scale: Float? = nil, logitSoftCap: Float? = nil) {
        self.batch = batch
        self.queryLength = queryLength
        self.keyLength = keyLength
        self.keyCapacity = keyCapacity ?? keyLength
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.queryOffset = queryOffset
        self.slidingWindow = slidingWindow
        self.scale = scale
        self.logitSoftCap = logitSoftCap
    }
}

/// Which keys a query may see besides the causal rule. `segments[b·keyCapacity + j]` is the sample id of key `j`
/// (-1 = padding, never visible). A query sees a valid key when their segments are equal, or when the query is
/// itself padding (as transformers does for right-padded rows). `nil` means every key is valid and one segment.
public typealias KeySegments = [Int32]

/// Output of RMSNorm: the normalised rows and `1/rms` per row (kept for the backward pass).
public struct RMSNormOutput: Sendable {
    public var output: Tensor   // [M, C]
    public var inverseRMS: Tensor   // [M]
    public init(output: Tensor, inverseRMS: Tensor) { self.output = output; self.inverseRMS = inverseRMS }
}

/// Output of attention: heads concatenated, and when asked for (for backward) each row's log Σ_j exp(score_j) over
/// its visible keys (-inf for a row that sees none), from which the backward recomputes the probabilities.
public struct AttentionOutput: Sendable {
    public var output: Tensor   // [B·Tq, H·D]
    public var logSumExp: Tensor?   // [B·Tq, H]
    public init(output: Tensor, logSumExp: Tensor?) { self.output = output; self.logSumExp = logSumExp }
}

/// Cosine and sine of the rotary angles for a list of positions: `[M, D/2]` each.
public struct RotaryAngles: Sendable {
    public var cos: Tensor
    public var sin: Tensor
    public init(cos: Tensor, sin: Tensor) { self.cos = cos; self.sin = sin }
}

/// How a matrix product with a large weight is computed.
public enum MatmulPrecision: String, Sendable, Codable, CaseIterable {
    /// f32 inputs and weights, f32 accumulation.
    case f32
    /// Inputs and weights rounded to bf16 (nearest even), products accumulated and returned in f32 (torch's bf16
    /// matmul also rounds its output to bf16; this keeps it f32). About twice as fast where the CPU has bf16 dot
    /// products (AVX512-BF16, AMX); used for the base weights.
    case bf16
}

extension MatmulPrecision {
    /// The faster precision on this machine: bf16 where the CPU has bf16 dot products (Linux with AVX512-BF16 or
    /// AMX, where Tailor links oneDNN), f32 everywhere else — bf16 without hardware support would be slower.
    public static let native: MatmulPrecision = CPUFeatures.hasNativeBF16 ? .bf16 : .f32
}

/// Compute operations a model needs. Inputs and outputs are f32 unless a parameter says otherwise.
/// Implementations: `ReferenceBackend` (naive, the oracle in tests) and `CPUBackend` (BLAS + parallel loops).
public protocol Backend: Sendable {
    /// A short name for reports ("cpu", "reference").
    var name: String { get }

    /// `y[M, N] = x[M, K] · weight[N, K]ᵀ + bias[N]`. The weight may be stored f32, bf16 or f16; `precision`
    /// says whether the product runs in f32 or in bf16 (see `MatmulPrecision`).
    func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, precision: MatmulPrecision) -> Tensor
    /// `y[M, N] = x[M, K] · Wᵀ + bias` with a packed frozen `W` decoded tile by tile (QLoRA's base layers).
    func linear(_ x: Tensor, packedWeight: any PackedMatrix, bias: Tensor?, precision: MatmulPrecision) -> Tensor
    /// `linear` of one input with several weights of the same width (q/k/v, gate/up), one output per weight in order:
    /// the same values as one `linear` call each, computed together where that saves work (decode's streaming
    /// products hand the whole group to the cores at once).
    func linears(_ x: Tensor, weights: [Tensor], biases: [Tensor?], precision: MatmulPrecision) -> [Tensor]
    /// `linears` with packed weights.
    func linears(_ x: Tensor, packedWeights: [any PackedMatrix], biases: [Tensor?], precision: MatmulPrecision) -> [Tensor]
    /// Rows of `table[V, C]` (f32, bf16 or f16) for each id → `[M, C]` f32.
    func embedding(ids: [Int32], table: Tensor) -> Tensor
    /// `y = x / sqrt(mean(x²) + eps) · weight` per row of `x[M, C]`.
    func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> RMSNormOutput
    /// The residual add and the RMSNorm after it: `sum = a + b` and `rmsNorm(sum)`, in one pass over the rows.
    func addRMSNorm(_ a: Tensor, _ b: Tensor, weight: Tensor, eps: Float) -> (sum: Tensor, normalized: RMSNormOutput)
    /// cos/sin of `position · inverseFrequency[i]` as torch computes them.
    func rotaryAngles(positions: [Int32], inverseFrequencies: [Float]) -> RotaryAngles
    /// Rotate-half RoPE on `x[M, heads·D]` with angles for each of the M rows (in place when `x` is handed over with
    /// `consume` and holds the only reference to its bytes).
    func applyRotary(_ x: consuming Tensor, heads: Int, angles: RotaryAngles) -> Tensor
    /// Scaled dot-product attention with grouped-query heads, causal mask and optional segments.
    /// query `[B·Tq, H·D]`; key/value `[B·keyCapacity, G·D]`.
    func attention(query: Tensor, key: Tensor, value: Tensor, shape: AttentionShape, segments: KeySegments?,
                   keepLogSumExp: Bool) -> AttentionOutput
    /// `silu(gate) · up`, elementwise.
    func swiglu(gate: Tensor, up: Tensor) -> Tensor
    /// `gelu_tanh(gate) · up`, elementwise (Gemma's GeGLU; torch's `gelu(approximate="tanh")`).
    func geglu(gate: Tensor, up: Tensor) -> Tensor
    /// `a + b`, elementwise.
    func add(_ a: Tensor, _ b: Tensor) -> Tensor
    /// `a + scale·b`, elementwise.
    func addScaled(_ a: Tensor, _ b: Tensor, scale: Float) -> Tensor
    /// `y + scale · x·Wᵀ` for f32 `x[M, K]` and `W[N, K]`: a LoRA update added into its base layer's output `y[M, N]`
    /// in one product that accumulates (no separate M × N update and elementwise pass); pass `y` with `consume` so its
    /// bytes are written in place.
    func addingLinear(_ y: consuming Tensor, _ x: Tensor, weight: Tensor, scale: Float) -> Tensor
    /// `cap · tanh(x / cap)`, elementwise (Gemma 2's final logit soft-capping).
    func softCap(_ x: Tensor, cap: Float) -> Tensor
    /// `a · b`, elementwise.
    func multiply(_ a: Tensor, _ b: Tensor) -> Tensor
    /// `scale · a`, elementwise.
    func scale(_ a: Tensor, by scale: Float) -> Tensor
    /// Negative log-likelihood of `targets[m]` under `softmax(logits[m])`; 0 where the target is -100.
    func crossEntropy(logits: Tensor, targets: [Int32]) -> Tensor

    // MARK: Backward passes. Parameter gradients accumulate (+=); input gradients are returned fresh.

    /// Returns dx = dy·W when `needInputGradient`; adds dyᵀ·x to `weightGradient` and Σ dy to `biasGradient`
    /// when they are non-nil (f32 tensors shaped like the weight and bias). `precision` applies to both products
    /// (with bf16, the factors of dyᵀ·x are rounded and the sum is added to the f32 gradient).
    func linearBackward(dOutput: Tensor, input: Tensor, weight: Tensor, weightGradient: inout Tensor?,
                        biasGradient: inout Tensor?, needInputGradient: Bool, precision: MatmulPrecision) -> Tensor?
    /// `dx[M, K] = dy[M, N] · W` for a packed frozen `W` (which has no gradient of its own).
    func linearInputGradient(dOutput: Tensor, packedWeight: any PackedMatrix, precision: MatmulPrecision) -> Tensor
    /// Adds each row of `dOutput` to the row of `tableGradient` its id selected.
    func embeddingBackward(dOutput: Tensor, ids: [Int32], tableGradient: inout Tensor)
    /// Returns dx, plus `addend` when non-nil (a residual's gradient, added in the same pass); adds to
    /// `weightGradient` when non-nil.
    func rmsNormBackward(dOutput: Tensor, input: Tensor, weight: Tensor, inverseRMS: Tensor, adding addend: Tensor?,
                         weightGradient: inout Tensor?) -> Tensor
    /// Gradient of `applyRotary` with respect to its input (in place as `applyRotary`).
    func applyRotaryBackward(_ dOutput: consuming Tensor, heads: Int, angles: RotaryAngles) -> Tensor
    /// Gradients of query, key and value; `output` and `logSumExp` are the forward's (kept with `keepLogSumExp`),
    /// `segments` the forward's.
    func attentionBackward(dOutput: Tensor, query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                           shape: AttentionShape, segments: KeySegments?) -> AttentionGradients
    /// Gradient of `softCap`'s input `x`: `dy · (1 - tanh²(x / cap))`.
    func softCapBackward(dOutput: Tensor, input: Tensor, cap: Float) -> Tensor
    /// Gradients of `swiglu`'s gate and up inputs.
    func swigluBackward(dOutput: Tensor, gate: Tensor, up: Tensor) -> (gate: Tensor, up: Tensor)
    /// Gradients of `geglu`'s gate and up inputs.
    func gegluBackward(dOutput: Tensor, gate: Tensor, up: Tensor) -> (gate: Tensor, up: Tensor)
    /// Gradient of the logits for per-row loss weights `dLoss` (e.g. 1/N for a mean).
    func crossEntropyBackward(logits: Tensor, targets: [Int32], dLoss: [Float]) -> Tensor
    /// `crossEntropy` and `crossEntropyBackward` in one pass over the logits, whose storage may become the
    /// gradient's (hand them over with `consume`).
    func crossEntropyWithGradient(logits: consuming Tensor, targets: [Int32], dLoss: [Float]) -> (losses: Tensor, dLogits: Tensor)
}

extension Backend {
    /// The two passes one after the other.
    public func crossEntropyWithGradient(logits: consuming Tensor, targets: [Int32], dLoss: [Float]) -> (losses: Tensor, dLogits: Tensor) {
        (crossEntropy(logits: logits, targets: targets), crossEntropyBackward(logits: logits, targets: targets, dLoss: dLoss))
    }

    /// One `linear` call per weight.
    public func linears(_ x: Tensor, weights: [Tensor], biases: [Tensor?], precision: MatmulPrecision) -> [Tensor] {
        zip(weights, biases).map { linear(x, weight: $0, bias: $1, precision: precision) }
    }

    /// One `linear` call per packed weight.
    public func linears(_ x: Tensor, packedWeights: [any PackedMatrix], biases: [Tensor?], precision: MatmulPrecision) -> [Tensor] {
        zip(packedWeights, biases).map { linear(x, packedWeight: $0, bias: $1, precision: precision) }
    }

    /// `linear` with a packed weight, in f32.
    public func linear(_ x: Tensor, packedWeight: any PackedMatrix, bias: Tensor?) -> Tensor {
        linear(x, packedWeight: packedWeight, bias: bias, precision: .f32)
    }

    /// `linearInputGradient` in f32.
    public func linearInputGradient(dOutput: Tensor, packedWeight: any PackedMatrix) -> Tensor {
        linearInputGradient(dOutput: dOutput, packedWeight: packedWeight, precision: .f32)
    }

    /// `linear` in f32.
    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        linear(x, weight: weight, bias: bias, precision: .f32)
    }

    /// `linearBackward` in f32.
    public func linearBackward(dOutput: Tensor, input: Tensor, weight: Tensor, weightGradient: inout Tensor?,
                               biasGradient: inout Tensor?, needInputGradient: Bool) -> Tensor? {
        linearBackward(dOutput: dOutput, input: input, weight: weight, weightGradient: &weightGradient,
                       biasGradient: &biasGradient, needInputGradient: needInputGradient, precision: .f32)
    }
}

/// Gradients of attention's inputs, shaped like query, key and value.
public struct AttentionGradients: Sendable {
    public var query: Tensor
    public var key: Tensor
    public var value: Tensor
    public init(query: Tensor, key: Tensor, value: Tensor) { self.query = query; self.key = key; self.value = value }
}

/// A frozen weight matrix `[rows, columns]` stored packed (4-bit NF4, …) and decoded a block of rows at a time,
/// so that matrix products never hold the whole matrix in f32.
public protocol PackedMatrix: Sendable {
    /// `[out features, in features]`.
    var shape: [Int] { get }
    /// Bytes the packed form occupies.
    var byteCount: Int { get }
    /// Writes rows `rows` as f32 into `out` (row-major, `rows.count × shape[1]` values).
    func dequantizeRows(_ rows: Range<Int>, into out: UnsafeMutablePointer<Float>)
}

extension PackedMatrix {
    /// Rows `ids` decoded to f32, `[ids.count, shape[1]]`: an embedding lookup in a packed table. Every id must
    /// be a row of the matrix.
    public func rows(_ ids: [Int32]) -> Tensor {
        let columns = shape[1]
        var out = Tensor(uninitialized: [ids.count, columns])
        out.withUnsafeMutableFloats { o in
            for (m, id) in ids.enumerated() {
                precondition(id >= 0 && Int(id) < shape[0], "token id \(id) outside the vocabulary of \(shape[0])")
                dequantizeRows(Int(id)..<(Int(id) + 1), into: o.baseAddress! + m * columns)
            }
        }
        return out
    }

    /// The whole matrix decoded to a dense f32 tensor.
    public func decoded() -> Tensor {
        var out = Tensor(uninitialized: shape)
        out.withUnsafeMutableFloats { dequantizeRows(0..<shape[0], into: $0.baseAddress!) }
        return out
    }
}

