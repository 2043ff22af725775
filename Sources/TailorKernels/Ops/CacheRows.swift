// Writing new keys and values into a KV cache's rows, converted to the cache's dtype in the same pass.
import CTailorKernels
import TailorTensor

/// Copies `count` rows per batch entry of the f32 `source` (`[B·count, W]`) into rows `start ..< start + count` of each
/// entry's `capacity` rows of `target` (`[B·capacity, W]`, f32 or f16), converted to the target's dtype (f16: rounded
/// to nearest even, by F16C where the CPU has it).
public func writeCacheRows(_ source: Tensor, into target: inout Tensor, batch: Int, capacity: Int, start: Int, count: Int) {
    let width = source.count / max(batch * count, 1)
    precondition(source.dtype == .f32 && source.count == batch * count * width && target.count == batch * capacity * width
                 && start + count <= capacity && [.f32, .f16].contains(target.dtype),
                 "cache rows: \(source.shape) into \(target.shape) at \(start) + \(count)")
    let rowValues = count * width, half = target.dtype == .f16
    source.withUnsafeFloats { src in
        target.withUnsafeMutableRawBytes { dst in
            for b in 0..<batch {
                let from = src.baseAddress! + b * rowValues, at = (b * capacity + start) * width
                if half {
                    tk_round_f16(from, dst.baseAddress!.assumingMemoryBound(to: UInt16.self) + at, rowValues)
                } else {
                    (dst.baseAddress!.assumingMemoryBound(to: Float.self) + at).update(from: from, count: rowValues)
                }
            }
        }
    }
}
