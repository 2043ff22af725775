// The AdamW update over one parameter's elements, vectorized. See include/CTailorKernels.h; the body is AdamWBody.h,
// compiled once per instruction set. No contraction: each multiply and add rounds on its own, as in torch.
#include "CTailorKernels.h"
#include "VariantChoice.h"
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

void tk_adamw(float *p, const float *g, float *m, float *v, size_t begin, size_t end, const tk_adamw_scalars *s) {
#if TK_X86_ADAMW
    if (tk_use_avx2_fma()) { adamw_avx2(p, g, m, v, begin, end, s); return; }
#endif
    adamw_portable(p, g, m, v, begin, end, s);
}
