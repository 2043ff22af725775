// Frozen weights stored as GGML's q8_0 for inference: blocks of 32 int8 along each row, one f16 scale per block.
import CTailorKernels
import TailorTensor

/// A weight `[N, K]` quantized to blocks of 32 int8 values with one f16 scale each (`scale = max|w|/127`,
/// `q = round(w/scale)`, GGML's q8_0): 34 bytes per 32 weights. Products with it (`CPUBackend.linear`) quantize the
/// input rows the same way and sum exact integer block products scaled by both scales, as llama.cpp does.
public struct Int8BlockMatrix: PackedMatrix {
    /// Values per block.
    public static let blockSize = Int(TK_Q8_BLOCK)

    public let shape: [Int]
    let quants: [Int8]        // N·K
    let scales: [UInt16]      // N·K/32, f16 bits

    /// Quantizes `weight` (f32, bf16 or f16, `[N, K]`); throws `InferenceWeightsError.int8ColumnsNotMultipleOfBlock`
    /// when K is not a multiple of 32.
    public init(quantizing weight: Tensor) throws(InferenceWeightsError) {
        guard weight.rank == 2 else { throw .notAMatrix(shape: weight.shape) }
        let n = weight.shape[0], k = weight.shape[1], blocks = k / Self.blockSize
        guard k % Self.blockSize == 0 else { throw .int8ColumnsNotMultipleOfBlock(columns: k) }
        shape = [n, k]
        var quants = [Int8](repeating: 0, count: n * k)
        var scales = [UInt16](repeating: 0, count: n * blocks)
        quants.withUnsafeMutableBufferPointer { q in
            scales.withUnsafeMutableBufferPointer { s in
                let (qBase, sBase) = (UncheckedSendable(q.baseAddress!), UncheckedSendable(s.baseAddress!))
                forEachRowTile(of: weight, tileRows: packedTileRows) { rows, tile in
                    tk_quantize_q8_weights(tile, rows.count, k, qBase.value + rows.lowerBound * k,
                                           sBase.value + rows.lowerBound * blocks)
                }
            }
        }
        self.quants = quants
        self.scales = scales
    }

    public var byteCount: Int { quants.count + 2 * scales.count }

    public func dequantizeRows(_ rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        guard !rows.isEmpty else { return }
        let k = shape[1], blocks = k / Self.blockSize
        quants.withUnsafeBufferPointer { q in
            scales.withUnsafeBufferPointer { s in
                tk_dequantize_q8_rows(q.baseAddress! + rows.lowerBound * k, s.baseAddress! + rows.lowerBound * blocks,
                                      rows.count, k, out)
            }
        }
    }
}

/// Why a weight cannot be stored as asked for inference.
public enum InferenceWeightsError: Error, Equatable, CustomStringConvertible {
    case notAMatrix(shape: [Int])
    case int8ColumnsNotMultipleOfBlock(columns: Int)

    public var description: String {
        switch self {
        case .notAMatrix(let shape): "int8 weights: expected a matrix, got shape \(shape)"
        case .int8ColumnsNotMultipleOfBlock(let columns):
            "int8 weights: \(columns) input features are not a multiple of the block size \(Int8BlockMatrix.blockSize)"
        }
    }
}
