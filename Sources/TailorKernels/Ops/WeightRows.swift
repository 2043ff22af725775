// Reading rows of a stored weight (f32, bf16, f16) as f32, tile by tile, without converting the whole matrix.
import TailorTensor

/// Converts `count` elements starting at element `start` of a floating-point tensor's bytes into `out`.
@inline(__always)
func convertToFloat(_ raw: UnsafeRawPointer, dtype: DType, start: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
    switch dtype {
    case .f32:
        out.update(from: raw.assumingMemoryBound(to: Float.self) + start, count: count)
    case .bf16:
        let src = raw.assumingMemoryBound(to: UInt16.self) + start
        for i in 0..<count { out[i] = Float(bitPattern: UInt32(src[i]) << 16) }
    case .f16:
        let src = raw.assumingMemoryBound(to: Float16.self) + start
        for i in 0..<count { out[i] = Float(src[i]) }
    default:
        preconditionFailure("weights must be f32, bf16 or f16, got \(dtype)")
    }
}

/// Calls `body` with consecutive row tiles of `weight[N, K]` as f32 pointers (the f32 storage itself when possible).
func forEachRowTile(of weight: Tensor, tileRows: Int, _ body: (_ rows: Range<Int>, _ tile: UnsafePointer<Float>) -> Void) {
    let n = weight.shape[0], k = weight.count / max(weight.shape[0], 1)
    weight.withUnsafeRawBytes { raw in
        guard let base = raw.baseAddress else { return }
        if weight.dtype == .f32 {
            // f32 weights are used in place, still tile by tile: BLAS runs faster on these blocks than on the
            // whole (tall) matrix at once (measured on SmolLM2's shapes).
            let f32 = base.assumingMemoryBound(to: Float.self)
            var row = 0
            while row < n {
                let end = min(n, row + tileRows)
                body(row..<end, f32 + row * k)
                row = end
            }
            return
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * k)
        defer { scratch.deallocate() }
        var row = 0
        while row < n {
            let end = min(n, row + tileRows)
            convertToFloat(base, dtype: weight.dtype, start: row * k, count: (end - row) * k, into: scratch)
            body(row..<end, scratch)
            row = end
        }
    }
}
