// One instruction-set variant of the gated activations (SwiGLU, GeGLU) and the loss (Activations.c includes this file
// once per variant through CompileBodies.h, with TK_W, FN(name) and TK_TARGET defined). σ(g) from e = e^-|g| (at most
// 1, so the polynomial exp neither overflows nor loses the tail): σ = 1/(1 + e) for g ≥ 0, e/(1 + e) below.
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

/// tanh(a) = (1 − e)/(1 + e) with e = e^-2|a| (at most 1: no overflow; ±1 from |a| ≈ 43.5 on), the sign of a restored.
TK_TARGET static inline VF FN(tanh)(VF a) {
    const VF m = FN(select)(a < 0, a, -a);   // -|a|
    const VF e = FN(exp_clamped)(m + m);
    const VF one = FN(splat)(1.0f);
    const VF t = (one - e) / (one + e);
    return FN(select)(a < 0, -t, t);
}

/// transformers' gelu_pytorch_tanh, gelu(z) = ½z(1 + tanh a) with a = c(z + kz³), c = √(2/π), k = 0.044715, and its
/// derivative ½(1 + tanh a) + ½z(1 − tanh²a)·c(1 + 3kz²). The derivative's second term takes z clamped to ±100:
/// beyond, tanh a is ±1 exactly and the term is 0 (unclamped, z² overflows past 1.8e19 and 0·∞ would be NaN).
TK_TARGET static inline VF FN(gelu_tanh)(VF z, VF *derivative) {
    const float c = 0.7978845608028654f, k = 0.044715f;
    const VF t = FN(tanh)(c * (z + k * z * z * z));
    const VF zc = FN(select)(z > 100.0f, FN(splat)(100.0f), FN(select)(z < -100.0f, FN(splat)(-100.0f), z));
    if (derivative) *derivative = 0.5f * (1.0f + t) + 0.5f * zc * (1.0f - t * t) * c * (1.0f + 3.0f * k * zc * zc);
    return 0.5f * z * (1.0f + t);
}

TK_TARGET static void FN(geglu_forward)(const float *gate, const float *up, float *out, size_t begin, size_t end) {
    size_t i = begin;
    for (; i + TK_W <= end; i += TK_W) FN(store)(out + i, FN(gelu_tanh)(FN(load)(gate + i), 0) * FN(load)(up + i));
    for (; i < end; i++) {   // the last values, one vector padded with zeros
        VF g = {0};
        g[0] = gate[i];
        out[i] = FN(gelu_tanh)(g, 0)[0] * up[i];
    }
}

TK_TARGET static void FN(geglu_backward)(const float *dout, const float *gate, const float *up, float *dgate, float *dup,
                                         size_t begin, size_t end) {
    size_t i = begin;
    for (; i + TK_W <= end; i += TK_W) {
        VF derivative;
        const VF dy = FN(load)(dout + i), value = FN(gelu_tanh)(FN(load)(gate + i), &derivative);
        FN(store)(dup + i, dy * value);
        FN(store)(dgate + i, dy * FN(load)(up + i) * derivative);
    }
    for (; i < end; i++) {
        VF g = {0}, derivative;
        g[0] = gate[i];
        const float value = FN(gelu_tanh)(g, &derivative)[0];
        dup[i] = dout[i] * value;
        dgate[i] = dout[i] * up[i] * derivative[0];
    }
}

/// The softmax cross-entropy of rows [row_begin, row_end) of `logits` (v columns), forward and backward in one pass per
/// row, the gradient written over the logits (`crossEntropyWithGradient` in CrossEntropy.swift): e = exp(x − max) by
/// fastExp's polynomial, summed in f32 over blocks of 256 and the blocks in f64; loss = log Σ + max − x[target];
/// gradient = e·dloss/Σ, minus dloss at the target. Rows whose target is -100 get loss 0 and a zero gradient. Targets
/// are in [0, v) otherwise (the caller checks).
TK_TARGET static void FN(cross_entropy)(float *logits, size_t v, const int32_t *targets, const float *dloss, float *losses,
                                        size_t row_begin, size_t row_end) {
    for (size_t r = row_begin; r < row_end; r++) {
        float *row = logits + r * v;
        const int32_t target = targets[r];
        if (target == -100) {
            losses[r] = 0;
            for (size_t j = 0; j < v; j++) row[j] = 0;
            continue;
        }
        size_t j = 0;
        VF mv = FN(splat)(-INFINITY);
        for (; j + TK_W <= v; j += TK_W) { const VF x = FN(load)(row + j); mv = FN(select)(x > mv, x, mv); }
        float max = -INFINITY;
        for (int l = 0; l < TK_W; l++) if (mv[l] > max) max = mv[l];
        for (; j < v; j++) if (row[j] > max) max = row[j];
        const float target_logit = row[target];
        const VF shift = FN(splat)(max);
        double sum = 0;
        for (size_t start = 0; start < v; start += 256) {
            const size_t end = start + 256 < v ? start + 256 : v;
            VF acc = FN(splat)(0);
            for (j = start; j + TK_W <= end; j += TK_W) {
                const VF e = FN(exp_clamped)(FN(load)(row + j) - shift);
                FN(store)(row + j, e);
                acc += e;
            }
            float block = 0;
            for (int l = 0; l < TK_W; l++) block += acc[l];
            for (; j < end; j++) {   // the block's last values, one vector padded with zeros
                VF x = {0};
                x[0] = row[j] - max;
                row[j] = FN(exp_clamped)(x)[0];
                block += row[j];
            }
            sum += block;
        }
        losses[r] = (float)(log(sum) + (double)max - (double)target_logit);
        const float scale = dloss[r] / (float)sum;
        const VF s = FN(splat)(scale);
        for (j = 0; j + TK_W <= v; j += TK_W) FN(store)(row + j, FN(load)(row + j) * s);
        for (; j < v; j++) row[j] *= scale;
        row[target] -= dloss[r];
    }
}

#undef VF
#undef VI
#undef VFU
