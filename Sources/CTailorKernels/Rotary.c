// Rotate-half RoPE, vectorized, in place or into another buffer. See include/CTailorKernels.h; the bodies are
// RotaryBody.h, compiled once per instruction set.
#include "CTailorKernels.h"

#define TK_BODY "RotaryBody.h"
#include "CompileBodies.h"

void tk_rope(const float *x, const float *cosines, const float *sines, size_t heads, size_t half, float sign, float *out,
             size_t row_begin, size_t row_end) {
    TK_RUN_BODY(rope, x, cosines, sines, heads, half, sign, out, row_begin, row_end);
}
