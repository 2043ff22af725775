// The element-wise AdamW update in f32, in torch's single-tensor operation order, with a naive reference beside it.
import CTailorKernels
import Dispatch
import TailorTensor

/// The per-step f32 scalars of torch's `_single_tensor_adam`, each rounded from its Python double as torch does.
struct AdamWScalars: Sendable {
    /// `1 - lr·wd` (decoupled decay), nil when the parameter's group has weight decay 0 (torch skips the multiply).
    var decay: Float?
    /// The lerp weight `1 - β1`.
    var lerpWeight: Float
    /// β2 and `1 - β2`.
    var beta2: Float
    var oneMinusBeta2: Float
    /// `sqrt(1 - β2^t)` (Python `bias_correction2 ** 0.5`).
    var biasCorrection2Sqrt: Float
    var epsilon: Float
    /// `-lr / (1 - β1^t)`.
    var negativeStepSize: Float
}

/// One element of the update. torch 2.15 CPU, single-tensor path, f32 (verified element-wise on 10⁶ values):
///   p.mul_(1 - lr·wd)                      → p = p · decay
///   exp_avg.lerp_(g, 1 - β1)               → m = fma(w, g - m, m)            (weight < 0.5; else fma(w - 1, g - m, g))
///   exp_avg_sq.mul_(β2).addcmul_(g, g, 1-β2) → v = fma((1-β2)·g, g, v·β2)
///   denom = (v.sqrt() / bc2_sqrt).add_(eps)
///   p.addcdiv_(m, denom, value=-step)      → p = p + (-step · m) / denom
/// torch's f32 sqrt (MKL VML) is not always correctly rounded (±1 ulp on about 20 % of inputs); ours is, which is the
/// only source of difference from torch here.
@inline(__always)
func adamwElement(_ p: inout Float, _ g: Float, _ m: inout Float, _ v: inout Float, _ s: AdamWScalars) {
    var pi = p
    if let decay = s.decay { pi = pi * decay }
    let w = s.lerpWeight
    let mi = w < 0.5 ? m.addingProduct(w, g - m) : g.addingProduct(w - 1, g - m)
    let vi = (v * s.beta2).addingProduct(s.oneMinusBeta2 * g, g)
    let denom = vi.squareRoot() / s.biasCorrection2Sqrt + s.epsilon
    m = mi
    v = vi
    p = pi + (s.negativeStepSize * mi) / denom
}

/// The update over `range` of one parameter, through raw element addresses: `adamwElement`'s operations as one
/// vector kernel (CTailorKernels' `tk_adamw`; the same bits: vector sqrt, division and fma round as scalar ones).
@inline(__always)
func adamwUpdate(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                 _ v: UnsafeMutablePointer<Float>, _ range: Range<Int>, _ s: AdamWScalars) {
    var scalars = tk_adamw_scalars(has_decay: s.decay == nil ? 0 : 1, decay: s.decay ?? 1, lerp_weight: s.lerpWeight,
                                   beta2: s.beta2, one_minus_beta2: s.oneMinusBeta2,
                                   bias_correction2_sqrt: s.biasCorrection2Sqrt, epsilon: s.epsilon,
                                   negative_step_size: s.negativeStepSize)
    tk_adamw(p, g, m, v, range.lowerBound, range.upperBound, &scalars)
}

/// The naive reference: one parameter, arrays, one thread. Tests hold the parallel kernel to it bit for bit.
func adamwUpdateNaive(parameter: inout [Float], gradient: [Float], expAvg: inout [Float], expAvgSq: inout [Float],
                      scalars: AdamWScalars) {
    precondition(parameter.count == gradient.count && expAvg.count == gradient.count && expAvgSq.count == gradient.count)
    for i in parameter.indices { adamwElement(&parameter[i], gradient[i], &expAvg[i], &expAvgSq[i], scalars) }
}

/// Addresses of one parameter's buffers for the parallel update; integers because raw pointers are not Sendable.
struct AdamWBuffers: Sendable {
    var parameter: Int, gradient: Int, expAvg: Int, expAvgSq: Int
    var count: Int
    var scalars: AdamWScalars
}

/// Runs the update over all parameters, cut into chunks of `chunkSize` elements shared out to the cores.
/// The caller keeps every buffer alive, uniquely owned and unmoved for the duration of the call.
func adamwUpdateParallel(_ buffers: [AdamWBuffers], chunkSize: Int = 1 << 15) {
    var pieces: [(buffer: Int, range: Range<Int>)] = []
    for (b, buffer) in buffers.enumerated() {
        var start = 0
        while start < buffer.count {
            let end = min(start + chunkSize, buffer.count)
            pieces.append((b, start..<end))
            start = end
        }
    }
    let chunks = pieces
    let work = { @Sendable (c: Int) in
        let (b, range) = chunks[c]
        let buffer = buffers[b]
        guard let p = UnsafeMutablePointer<Float>(bitPattern: buffer.parameter),
              let g = UnsafePointer<Float>(bitPattern: buffer.gradient),
              let m = UnsafeMutablePointer<Float>(bitPattern: buffer.expAvg),
              let v = UnsafeMutablePointer<Float>(bitPattern: buffer.expAvgSq) else { return }
        adamwUpdate(p, g, m, v, range, buffer.scalars)
    }
    if chunks.count == 1 { work(0) } else if chunks.count > 1 {
        DispatchQueue.concurrentPerform(iterations: chunks.count, execute: work)
    }
}

extension Tensor {
    /// The address of the f32 elements after making the storage unique (copy-on-write happens here, once).
    /// Valid while the tensor is not copied-and-written, reassigned or destroyed.
    mutating func uniqueFloatAddress() -> Int {
        withUnsafeMutableFloats { Int(bitPattern: $0.baseAddress) }
    }

    /// The address of the f32 elements for reading; valid while the tensor is alive and unchanged.
    func floatAddress() -> Int {
        withUnsafeFloats { Int(bitPattern: $0.baseAddress) }
    }
}
