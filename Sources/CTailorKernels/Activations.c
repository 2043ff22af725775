// SwiGLU and GeGLU forward and backward and the softmax cross-entropy, vectorized (exponentials, and GeGLU's tanh, by
// the polynomial the attention kernels use).
// See include/CTailorKernels.h; the bodies are ActivationsBody.h, compiled once per instruction set.
#include "CTailorKernels.h"
#include "VariantChoice.h"
#include <math.h>

#define FN(name) name##_portable
#define TK_W 4
#define TK_TARGET
#include "ActivationsBody.h"
#undef FN
#undef TK_W
#undef TK_TARGET

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define TK_X86_ACTIVATIONS 1
#define FN(name) name##_avx2
#define TK_W 8
#define TK_TARGET __attribute__((target("avx2,fma")))
#include "ActivationsBody.h"
#undef FN
#undef TK_W
#undef TK_TARGET
#else
#define TK_X86_ACTIVATIONS 0
#endif

int tk_use_avx2_fma(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached && tk_inference_kernel_cap() >= TK_KERNEL_AVX2;
#else
    return 0;
#endif
}

void tk_swiglu_forward(const float *gate, const float *up, float *out, size_t begin, size_t end) {
#if TK_X86_ACTIVATIONS
    if (tk_use_avx2_fma()) { swiglu_forward_avx2(gate, up, out, begin, end); return; }
#endif
    swiglu_forward_portable(gate, up, out, begin, end);
}

void tk_swiglu_backward(const float *dout, const float *gate, const float *up, float *dgate, float *dup, size_t begin,
                        size_t end) {
#if TK_X86_ACTIVATIONS
    if (tk_use_avx2_fma()) { swiglu_backward_avx2(dout, gate, up, dgate, dup, begin, end); return; }
#endif
    swiglu_backward_portable(dout, gate, up, dgate, dup, begin, end);
}

void tk_geglu_forward(const float *gate, const float *up, float *out, size_t begin, size_t end) {
#if TK_X86_ACTIVATIONS
    if (tk_use_avx2_fma()) { geglu_forward_avx2(gate, up, out, begin, end); return; }
#endif
    geglu_forward_portable(gate, up, out, begin, end);
}

void tk_geglu_backward(const float *dout, const float *gate, const float *up, float *dgate, float *dup, size_t begin,
                       size_t end) {
#if TK_X86_ACTIVATIONS
    if (tk_use_avx2_fma()) { geglu_backward_avx2(dout, gate, up, dgate, dup, begin, end); return; }
#endif
    geglu_backward_portable(dout, gate, up, dgate, dup, begin, end);
}

void tk_cross_entropy(float *logits, size_t v, const int32_t *targets, const float *dloss, float *losses,
                      size_t row_begin, size_t row_end) {
#if TK_X86_ACTIVATIONS
    if (tk_use_avx2_fma()) { cross_entropy_avx2(logits, v, targets, dloss, losses, row_begin, row_end); return; }
#endif
    cross_entropy_portable(logits, v, targets, dloss, losses, row_begin, row_end);
}
