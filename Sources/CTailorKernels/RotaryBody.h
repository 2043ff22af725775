// One instruction-set variant of rotate-half RoPE (Rotary.c includes this file once per variant through
// CompileBodies.h, with TK_W, FN(name) and TK_TARGET defined). Each product is its own statement, so the compiler
// fuses no multiply-add: the values are those of `x·cos + rotate_half(x)·sin` computed op by op, as torch does.
#include "VectorMath.h"

TK_TARGET static void FN(rope)(const float *x, const float *cosines, const float *sines, size_t heads, size_t half,
                               float sign, float *out, size_t row_begin, size_t row_end) {
    const size_t d = 2 * half;
    for (size_t r = row_begin; r < row_end; r++) {
        const float *c = cosines + r * half, *s = sines + r * half;
        for (size_t h = 0; h < heads; h++) {
            const float *src = x + (r * heads + h) * d;
            float *dst = out + (r * heads + h) * d;
            size_t i = 0;
            for (; i + TK_W <= half; i += TK_W) {
                const VF a = FN(load)(src + i), b = FN(load)(src + i + half);
                const VF cv = FN(load)(c + i), sv = sign * FN(load)(s + i);
                const VF ac = a * cv, bs = b * sv, bc = b * cv, as = a * sv;
                FN(store)(dst + i, ac - bs);
                FN(store)(dst + i + half, bc + as);
            }
            for (; i < half; i++) {
                const float a = src[i], b = src[i + half], sv = sign * s[i];
                const float ac = a * c[i], bs = b * sv, bc = b * c[i], as = a * sv;
                dst[i] = ac - bs;
                dst[i + half] = bc + as;
            }
        }
    }
}

#undef VF
#undef VI
#undef VFU
