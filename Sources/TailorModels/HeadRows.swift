// Picking the rows of hidden states that reach the output head: only positions whose target is trained need logits
// (M × V, a fifth of SmolLM2's forward), so padding and prompt positions of preference pairs skip the head.
import TailorTensor

extension Tensor {
    /// Rows `rows` of an (M, C) tensor, as a (rows.count, C) tensor of the same dtype.
    public func gatheringRows(_ rows: [Int]) -> Tensor {
        let rowBytes = shape[shape.count - 1] * dtype.byteSize
        var out = Tensor(uninitialized: [rows.count, shape[shape.count - 1]], dtype: dtype)
        withUnsafeRawBytes { x in
            out.withUnsafeMutableRawBytes { y in
                for (i, r) in rows.enumerated() {
                    UnsafeMutableRawBufferPointer(rebasing: y[(i * rowBytes)..<((i + 1) * rowBytes)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: x[(r * rowBytes)..<((r + 1) * rowBytes)]))
                }
            }
        }
        return out
    }

    /// An (m, C) tensor holding row i of this (rows.count, C) tensor at row `rows[i]`, zeros elsewhere.
    public func scatteringRows(_ rows: [Int], into m: Int) -> Tensor {
        let rowBytes = shape[shape.count - 1] * dtype.byteSize
        var out = Tensor(zeros: [m, shape[shape.count - 1]], dtype: dtype)
        withUnsafeRawBytes { x in
            out.withUnsafeMutableRawBytes { y in
                for (i, r) in rows.enumerated() {
                    UnsafeMutableRawBufferPointer(rebasing: y[(r * rowBytes)..<((r + 1) * rowBytes)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: x[(i * rowBytes)..<((i + 1) * rowBytes)]))
                }
            }
        }
        return out
    }
}

/// The positions of `targets` that are trained (not -100), when they are fewer than all and at least one.
func trainedRows(_ targets: [Int32]) -> [Int]? {
    let rows = targets.indices.filter { targets[$0] != -100 }
    return rows.isEmpty || rows.count == targets.count ? nil : rows
}
