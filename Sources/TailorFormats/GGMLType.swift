// GGML tensor types: ids, block sizes and bytes per block (gguf-py GGML_QUANT_SIZES), and which ones we decode.

/// A GGML tensor storage type.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9
    case Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15
    case IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23
    case I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30
    case TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41

    /// The name llama.cpp prints, e.g. "Q4_1" (the case name; no CustomStringConvertible so this does not recurse).
    public var name: String { String(describing: self) }

    /// (elements per block, bytes per block).
    public var blockLayout: (elements: Int, bytes: Int) {
        switch self {
        case .F32: (1, 4)
        case .F16, .BF16, .I16: (1, 2)
        case .I8: (1, 1)
        case .I32: (1, 4)
        case .I64, .F64: (1, 8)
        case .Q4_0, .IQ4_NL: (32, 18)
        case .Q4_1: (32, 20)
        case .Q5_0: (32, 22)
        case .Q5_1: (32, 24)
        case .Q8_0: (32, 34)
        case .Q8_1: (32, 40)
        case .Q2_K: (256, 84)
        case .Q3_K: (256, 110)
        case .Q4_K: (256, 144)
        case .Q5_K: (256, 176)
        case .Q6_K: (256, 210)
        case .Q8_K: (256, 292)
        case .IQ2_XXS: (256, 66)
        case .IQ2_XS: (256, 74)
        case .IQ3_XXS: (256, 98)
        case .IQ1_S: (256, 50)
        case .IQ3_S: (256, 110)
        case .IQ2_S: (256, 82)
        case .IQ4_XS: (256, 136)
        case .IQ1_M: (256, 56)
        case .TQ1_0: (256, 54)
        case .TQ2_0: (256, 66)
        case .MXFP4: (32, 17)
        case .NVFP4: (64, 36)
        case .Q1_0: (128, 18)
        }
    }

    /// Bytes for `elements` values stored along ne[0] rows of `rowLength`; nil when `rowLength` is not a whole
    /// number of blocks or the size overflows.
    func byteCount(dims: [Int]) -> Int? {
        let (blockElements, blockBytes) = blockLayout
        guard let first = dims.first, first % blockElements == 0 else { return dims.isEmpty ? blockBytes : nil }
        var total = first / blockElements * blockBytes
        for d in dims.dropFirst() {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = product
        }
        return total
    }
}
