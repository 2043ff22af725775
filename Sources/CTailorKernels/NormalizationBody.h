// One instruction-set variant of RMSNorm's forward (optionally with the residual add before it) and backward
// (optionally with the residual's gradient added to it), one pass over each row (Normalization.c includes this file
// once per variant through CompileBodies.h, with TK_W, FN(name) and TK_TARGET defined).
#include "VectorMath.h"

/// Σ v² over `c` values, in two vector accumulators (then their lanes, then the tail in order).
TK_TARGET static inline float FN(sum_squares)(const float *v, size_t c) {
    VF a0 = FN(splat)(0), a1 = FN(splat)(0);
    size_t j = 0;
    for (; j + 2 * TK_W <= c; j += 2 * TK_W) {
        const VF x0 = FN(load)(v + j), x1 = FN(load)(v + j + TK_W);
        a0 += x0 * x0;
        a1 += x1 * x1;
    }
    if (j + TK_W <= c) { const VF x = FN(load)(v + j); a0 += x * x; j += TK_W; }
    a0 += a1;
    float sum = 0;
    for (int l = 0; l < TK_W; l++) sum += a0[l];
    for (; j < c; j++) sum += v[j] * v[j];
    return sum;
}

/// Rows `row_begin..<row_end` of x[M, C]: with `addend`, s = x + addend is written to `sum` and normalized instead of
/// x. out = w·(s·r) and rstd = r = 1/√(mean(s²) + eps).
TK_TARGET static void FN(rmsnorm_forward)(const float *x, const float *addend, const float *w, float eps, size_t c,
                                          float *sum, float *out, float *rstd, size_t row_begin, size_t row_end) {
    for (size_t i = row_begin; i < row_end; i++) {
        const float *row = x + i * c;
        if (addend) {
            const float *a = addend + i * c;
            float *s = sum + i * c;
            size_t j = 0;
            for (; j + TK_W <= c; j += TK_W) FN(store)(s + j, FN(load)(row + j) + FN(load)(a + j));
            for (; j < c; j++) s[j] = row[j] + a[j];
            row = s;
        }
        const float r = 1.0f / sqrtf(FN(sum_squares)(row, c) / (float)c + eps);
        rstd[i] = r;
        float *dst = out + i * c;
        const VF rv = FN(splat)(r);
        size_t j = 0;
        for (; j + TK_W <= c; j += TK_W) FN(store)(dst + j, FN(load)(w + j) * (FN(load)(row + j) * rv));
        for (; j < c; j++) dst[j] = w[j] * (row[j] * r);
    }
}

/// dx = r·(w·dy − x·r·mean(w·dy·x·r)) (+ addend) for rows `row_begin..<row_end`.
TK_TARGET static void FN(rmsnorm_backward)(const float *dy, const float *x, const float *w, const float *rstd,
                                           const float *addend, size_t c, float *dx, size_t row_begin,
                                           size_t row_end) {
    for (size_t i = row_begin; i < row_end; i++) {
        const float *d = dy + i * c, *xr = x + i * c;
        float *dst = dx + i * c;
        const float r = rstd[i];
        VF acc = FN(splat)(0);
        size_t j = 0;
        for (; j + TK_W <= c; j += TK_W) acc += FN(load)(w + j) * FN(load)(d + j) * FN(load)(xr + j);
        float dot = 0;
        for (int l = 0; l < TK_W; l++) dot += acc[l];
        for (; j < c; j++) dot += w[j] * d[j] * xr[j];
        const float k = r * r * (dot * r / (float)c);   // x's coefficient: r · r · mean(w·dy·x·r)
        const VF rv = FN(splat)(r), kv = FN(splat)(k);
        j = 0;
        if (addend) {
            const float *a = addend + i * c;
            for (; j + TK_W <= c; j += TK_W)
                FN(store)(dst + j, rv * (FN(load)(w + j) * FN(load)(d + j)) - kv * FN(load)(xr + j) + FN(load)(a + j));
            for (; j < c; j++) dst[j] = r * (w[j] * d[j]) - k * xr[j] + a[j];
        } else {
            for (; j + TK_W <= c; j += TK_W)
                FN(store)(dst + j, rv * (FN(load)(w + j) * FN(load)(d + j)) - kv * FN(load)(xr + j));
            for (; j < c; j++) dst[j] = r * (w[j] * d[j]) - k * xr[j];
        }
    }
}

/// dw[j] += Σ_rows dy·x·r for columns `col_begin..<col_end`, over all `m` rows.
TK_TARGET static void FN(rmsnorm_weight_gradient)(const float *dy, const float *x, const float *rstd, size_t m,
                                                  size_t c, float *dw, size_t col_begin, size_t col_end) {
    size_t j = col_begin;
    for (; j + TK_W <= col_end; j += TK_W) {
        VF acc = FN(load)(dw + j);
        for (size_t i = 0; i < m; i++) acc += FN(load)(dy + i * c + j) * FN(load)(x + i * c + j) * FN(splat)(rstd[i]);
        FN(store)(dw + j, acc);
    }
    for (; j < col_end; j++) {
        float acc = dw[j];
        for (size_t i = 0; i < m; i++) acc += dy[i * c + j] * x[i * c + j] * rstd[i];
        dw[j] = acc;
    }
}

#undef VF
#undef VI
#undef VFU
