// Picking the rows of hidden states that reach the output head: only positions whose target is trained need logits
// (M × V, a fifth of SmolLM2's forward), so padding and prompt positions of preference pairs skip the head.
import TailorTensor

extension Tensor {
    /// Rows `rows` of an (M, C) tensor, as a (rows.count, C) tensor of the same dtype.
    public func gatheringRows(_ rows: [Int]) -> Tensor {
        var out = Tensor(uninitialized: [rows.count, shape[shape.count - 1]], dtype: dtype)
        copyRows(into: &out, rows.enumerated().map { ($1, $0) })
        return out
    }

    /// An (m, C) tensor holding row i of this (rows.count, C) tensor at row `rows[i]`, zeros elsewhere.
    public func scatteringRows(_ rows: [Int], into m: Int) -> Tensor {
        var out = Tensor(zeros: [m, shape[shape.count - 1]], dtype: dtype)
        copyRows(into: &out, rows.enumerated().map { ($0, $1) })
        return out
    }

    /// Copies row `from` of this tensor to row `to` of `out` (same row width and dtype) for each pair.
    func copyRows(into out: inout Tensor, _ moves: [(from: Int, to: Int)]) {
        let rowBytes = shape[shape.count - 1] * dtype.byteSize
        withUnsafeRawBytes { x in
            out.withUnsafeMutableRawBytes { y in
                for (f, t) in moves {
                    UnsafeMutableRawBufferPointer(rebasing: y[(t * rowBytes)..<((t + 1) * rowBytes)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: x[(f * rowBytes)..<((f + 1) * rowBytes)]))
                }
            }
        }
    }
}

/// The positions of `targets` that are trained (not -100), when they are fewer than all and at least one.
func trainedRows(_ targets: [Int32]) -> [Int]? {
    let rows = targets.indices.filter { targets[$0] != -100 }
    return rows.isEmpty || rows.count == targets.count ? nil : rows
}
