// One instruction-set variant of the gated activations (Activations.c includes this file once per variant with
// TK_W, FN(name) and TK_TARGET defined, as FlashAttentionBody.h). σ(g) from e = e^-|g| (at most 1, so the
// polynomial exp neither overflows nor loses the tail): σ = 1/(1 + e) for g ≥ 0, e/(1 + e) below.
#include "VectorMath.h"

TK_TARGET static inline VF FN(sigmoid)(VF g) {
    const VF e = FN(exp)(FN(select)(g < 0, g, -g));
    const VF one = FN(splat)(1.0f);
    return FN(select)(g >= 0, one, e) / (one + e);
}

TK_TARGET static void FN(swiglu_forward)(const float *gate, const float *up, float *out, size_t begin, size_t end) {
    size_t i = begin;
    for (; i + TK_W <= end; i += TK_W) {
        const VF g = FN(load)(gate + i);
        FN(store)(out + i, g * FN(sigmoid)(g) * FN(load)(up + i));
    }
    for (; i < end; i++) {   // the last values, one vector padded with zeros
        VF g = {0};
        g[0] = gate[i];
        out[i] = (g * FN(sigmoid)(g))[0] * up[i];
    }
}

TK_TARGET static void FN(swiglu_backward)(const float *dout, const float *gate, const float *up, float *dgate, float *dup,
                                          size_t begin, size_t end) {
    size_t i = begin;
    for (; i + TK_W <= end; i += TK_W) {
        const VF g = FN(load)(gate + i), dy = FN(load)(dout + i), s = FN(sigmoid)(g);
        FN(store)(dup + i, dy * g * s);
        FN(store)(dgate + i, dy * FN(load)(up + i) * s * (1.0f + g * (1.0f - s)));
    }
    for (; i < end; i++) {
        VF g = {0};
        g[0] = gate[i];
        const float s = FN(sigmoid)(g)[0];
        dup[i] = dout[i] * gate[i] * s;
        dgate[i] = dout[i] * up[i] * s * (1.0f + gate[i] * (1.0f - s));
    }
}

#undef VF
#undef VI
#undef VFU
