// Token embedding lookup: out[m] = table[ids[m]].
import TailorTensor

func embeddingForward(ids: [Int32], table: Tensor) -> Tensor {
    let c = table.shape[1], v = table.shape[0]
    var out = Tensor(uninitialized: [ids.count, c])
    out.withUnsafeMutableFloats { o in
        table.withUnsafeRawBytes { raw in
            for (m, id) in ids.enumerated() {
                precondition(id >= 0 && Int(id) < v, "token id \(id) outside the vocabulary of \(v)")
                convertToFloat(raw.baseAddress!, dtype: table.dtype, start: Int(id) * c, count: c,
                               into: o.baseAddress! + m * c)
            }
        }
    }
    return out
}

/// Backward of the lookup: dTable[ids[m]] += dy[m].
func embeddingBackward(dOutput: Tensor, ids: [Int32], tableGradient: inout Tensor) {
    let c = tableGradient.shape[1]
    dOutput.withUnsafeFloats { dy in
        tableGradient.withUnsafeMutableFloats { dt in
            for (m, id) in ids.enumerated() {
                let dst = dt.baseAddress! + Int(id) * c, src = dy.baseAddress! + m * c
                for j in 0..<c { dst[j] += src[j] }
            }
        }
    }
}
