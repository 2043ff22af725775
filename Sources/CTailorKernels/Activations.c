// SwiGLU and GeGLU forward and backward and the softmax cross-entropy, vectorized (exponentials, and GeGLU's tanh, by
// the polynomial the attention kernels use).
// See include/CTailorKernels.h; the bodies are ActivationsBody.h, compiled once per instruction set.
#include "CTailorKernels.h"
#include <math.h>

#define TK_BODY "ActivationsBody.h"
#include "CompileBodies.h"

int tk_use_avx2_fma(void) {
#if TK_X86_BODIES
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return cached && tk_inference_kernel_cap() >= TK_KERNEL_AVX2;
#else
    return 0;
#endif
}

void tk_swiglu_forward(const float *gate, const float *up, float *out, size_t begin, size_t end) {
    TK_RUN_BODY(swiglu_forward, gate, up, out, begin, end);
}

void tk_swiglu_backward(const float *dout, const float *gate, const float *up, float *dgate, float *dup, size_t begin,
                        size_t end) {
    TK_RUN_BODY(swiglu_backward, dout, gate, up, dgate, dup, begin, end);
}

void tk_geglu_forward(const float *gate, const float *up, float *out, size_t begin, size_t end) {
    TK_RUN_BODY(geglu_forward, gate, up, out, begin, end);
}

void tk_geglu_backward(const float *dout, const float *gate, const float *up, float *dgate, float *dup, size_t begin,
                       size_t end) {
    TK_RUN_BODY(geglu_backward, dout, gate, up, dgate, dup, begin, end);
}

void tk_cross_entropy(float *logits, size_t v, const int32_t *targets, const float *dloss, float *losses,
                      size_t row_begin, size_t row_end) {
    TK_RUN_BODY(cross_entropy, logits, v, targets, dloss, losses, row_begin, row_end);
}
