// One instruction-set variant of the AdamW update (AdamW.c includes this file once per variant through
// CompileBodies.h, with TK_W, FN(name) and TK_TARGET defined). The operations and their order are TailorOptim's
// `adamwElement` (torch's single-tensor f32 path); vector sqrt, division and fma round as the scalar ones, so every
// variant gives the same bits.
#include "VectorMath.h"

TK_TARGET static void FN(adamw)(float *p, const float *g, float *m, float *v, size_t begin, size_t end,
                                const tk_adamw_scalars *s) {
    const VF w = FN(splat)(s->lerp_weight), w1 = FN(splat)(s->lerp_weight - 1), decay = FN(splat)(s->decay);
    const VF beta2 = FN(splat)(s->beta2), omb2 = FN(splat)(s->one_minus_beta2);
    const VF bc2 = FN(splat)(s->bias_correction2_sqrt), eps = FN(splat)(s->epsilon), step = FN(splat)(s->negative_step_size);
    const int small = s->lerp_weight < 0.5f, decays = s->has_decay != 0;
    size_t i = begin;
    for (; i + TK_W <= end; i += TK_W) {
        const VF gi = FN(load)(g + i), mo = FN(load)(m + i);
        VF pi = FN(load)(p + i);
        if (decays) pi = pi * decay;
        const VF diff = gi - mo;
        const VF mi = small ? __builtin_elementwise_fma(w, diff, mo) : __builtin_elementwise_fma(w1, diff, gi);
        const VF vb = FN(load)(v + i) * beta2;
        const VF a = omb2 * gi;
        const VF vi = __builtin_elementwise_fma(a, gi, vb);
        VF denom = __builtin_elementwise_sqrt(vi) / bc2;
        denom = denom + eps;
        VF q = step * mi;
        q = q / denom;
        FN(store)(m + i, mi);
        FN(store)(v + i, vi);
        FN(store)(p + i, pi + q);
    }
    for (; i < end; i++) {   // the last values, one by one
        float pi = p[i];
        if (decays) pi = pi * s->decay;
        const float gi = g[i], mo = m[i];
        const float mi = small ? fmaf(s->lerp_weight, gi - mo, mo) : fmaf(s->lerp_weight - 1, gi - mo, gi);
        const float vb = v[i] * s->beta2;
        const float vi = fmaf(s->one_minus_beta2 * gi, gi, vb);
        float denom = sqrtf(vi) / s->bias_correction2_sqrt;
        denom = denom + s->epsilon;
        float q = s->negative_step_size * mi;
        q = q / denom;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi + q;
    }
}

#undef VF
#undef VI
#undef VFU
