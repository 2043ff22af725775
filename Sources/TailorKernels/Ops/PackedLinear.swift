// Linear products with packed (4-bit) frozen weights: rows decoded into a small f32 tile, then BLAS.
import TailorTensor

/// Weight rows per tile (packed weights decoded into it; f32 weights used in place): 256 measured fastest on
/// SmolLM2's shapes among 64–512 (LoRA training, 2 cores).
let packedTileRows = 256

func packedLinearForward(_ x: Tensor, weight: any PackedMatrix, bias: Tensor?) -> Tensor {
    let n = weight.shape[0], k = weight.shape[1], m = x.count / k
    var y = Tensor(uninitialized: [m, n])
    y.withUnsafeMutableFloats { out in
        x.withUnsafeFloats { input in
            forEachDecodedTile(of: weight) { rows, tile in
                GEMM.sgemm(transposeA: false, transposeB: true, m: m, n: rows.count, k: k, a: input.baseAddress!, lda: k,
                           b: tile, ldb: k, c: out.baseAddress! + rows.lowerBound, ldc: n)
            }
        }
        if let bias { bias.withUnsafeFloats { b in for i in 0..<m { for j in 0..<n { out[i * n + j] += b[j] } } } }
    }
    return y
}

func packedLinearInputGradient(dOutput: Tensor, weight: any PackedMatrix) -> Tensor {
    let n = weight.shape[0], k = weight.shape[1], m = dOutput.count / n
    var dx = Tensor(zeros: [m, k])
    dx.withUnsafeMutableFloats { out in
        dOutput.withUnsafeFloats { dy in
            forEachDecodedTile(of: weight) { rows, tile in
                GEMM.sgemm(transposeA: false, transposeB: false, m: m, n: k, k: rows.count, a: dy.baseAddress! + rows.lowerBound,
                           lda: n, b: tile, ldb: k, beta: 1, c: out.baseAddress!, ldc: k)
            }
        }
    }
    return dx
}

/// Decodes `weight` tile by tile, splitting the decoding of each tile over the cores.
func forEachDecodedTile(of weight: any PackedMatrix, _ body: (Range<Int>, UnsafePointer<Float>) -> Void) {
    let n = weight.shape[0], k = weight.shape[1]
    let tile = UnsafeMutablePointer<Float>.allocate(capacity: packedTileRows * k)
    defer { tile.deallocate() }
    var start = 0
    while start < n {
        let end = min(n, start + packedTileRows), base = start
        Parallel.forEachChunk(end - start, costPerItem: 4 * k) { rows in
            weight.dequantizeRows((base + rows.lowerBound)..<(base + rows.upperBound), into: tile + rows.lowerBound * k)
        }
        body(start..<end, tile)
        start = end
    }
}

/// The whole packed matrix decoded and rounded to bf16, rows split over the cores (each worker decodes blocks of
/// rows into its own small f32 scratch, then rounds them).
func decodedBF16(_ weight: any PackedMatrix) -> Tensor {
    let n = weight.shape[0], k = weight.shape[1], blockRows = 64
    var out = Tensor(uninitialized: weight.shape, dtype: .bf16)
    out.withUnsafeMutableRawBytes { raw in
        let dst = raw.bindMemory(to: UInt16.self).baseAddress!
        Parallel.forEachChunk(n, costPerItem: 8 * k) { rows in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * k)
            defer { scratch.deallocate() }
            for start in stride(from: rows.lowerBound, to: rows.upperBound, by: blockRows) {
                let block = start..<min(rows.upperBound, start + blockRows)
                weight.dequantizeRows(block, into: scratch)
                let out = dst + start * k
                for i in 0..<(block.count * k) { out[i] = HalfConversion.bf16(from: scratch[i]) }
            }
        }
    }
    return out
}
