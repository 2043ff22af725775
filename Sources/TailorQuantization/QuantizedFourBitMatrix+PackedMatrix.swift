// 4-bit matrices are packed weights the backends multiply with tile by tile.
import TailorTensor

extension QuantizedFourBitMatrix: PackedMatrix {}
