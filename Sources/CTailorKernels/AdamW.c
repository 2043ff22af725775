// The AdamW update over one parameter's elements, vectorized. See include/CTailorKernels.h; the body is AdamWBody.h,
// compiled once per instruction set. No contraction: each multiply and add rounds on its own, as in torch.
#include "CTailorKernels.h"
#include <math.h>
#pragma STDC FP_CONTRACT OFF

#define TK_BODY "AdamWBody.h"
#include "CompileBodies.h"

void tk_adamw(float *p, const float *g, float *m, float *v, size_t begin, size_t end, const tk_adamw_scalars *s) {
    TK_RUN_BODY(adamw, p, g, m, v, begin, end, s);
}
