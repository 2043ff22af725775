// The AdamW update over one parameter's elements, vectorized. See include/CTailorKernels.h; the body is AdamWBody.h,
// compiled once per instruction set. No contraction: each multiply and add rounds on its own, as in torch.
#include "CTailorKernels.h"
#include <math.h>
#pragma STDC FP_CONTRACT OFF

#define FN(name) name##_portable
#define TK_W 4
#define TK_TARGET
#include "AdamWBody.h"
#undef FN
#undef TK_W
#undef TK_TARGET

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define TK_X86_ADAMW 1
#define FN(name) name##_avx2
#define TK_W 8
#define TK_TARGET __attribute__((target("avx2,fma")))
#include "AdamWBody.h"
#undef FN
#undef TK_W
#undef TK_TARGET
#else
#define TK_X86_ADAMW 0
#endif

/// AVX2 + FMA where the CPU has them (and the cap allows it): the update is memory-bound beyond that.
static int use_avx2(void) {
#if TK_X86_ADAMW
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

void tk_adamw(float *p, const float *g, float *m, float *v, size_t begin, size_t end, const tk_adamw_scalars *s) {
#if TK_X86_ADAMW
    if (use_avx2()) { adamw_avx2(p, g, m, v, begin, end, s); return; }
#endif
    adamw_portable(p, g, m, v, begin, end, s);
}
