// Gemma's RMSNorm multiplies by (1 + w); llama.cpp's GGUF files store that sum. Converting between the two forms.
import TailorTensor

extension Tensor {
    /// An f32 copy with `value` added to every element (Gemma norm weights between Hugging Face's w and GGUF's 1 + w).
    public func adding(_ value: Float) -> Tensor {
        Tensor(shape: shape, values: converted(to: .f32).floats().map { $0 + value })
    }
}
