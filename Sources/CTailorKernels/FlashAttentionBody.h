// One instruction-set variant of the blocked attention kernels; FlashAttention.c includes this file once per variant
// with TK_W (floats per vector), FN(name) (the name with the variant's suffix) and TK_TARGET (a target attribute or
// nothing) defined. Written with clang/GCC vector extensions, so that the same source is the AVX-512, the AVX2 and
// the portable body; products accumulate in f32 (fused multiply-add where the target has it).
//
// Legend: B batch, Tq query length, Tk key length, H query heads, G key/value heads, D head size (Dp: rounded up to
// a whole vector), BQ query positions per block, BK keys per block. A block's rows stack the H/G query heads that
// share one key/value head (row r: head r / nq, position r % nq), so K and V are read once for the whole group.

#include "VectorMath.h"

/// The per-score transform before the mask, t = f(raw q·k), and its derivative applied to dL/dt. Every kernel
/// goes through this pair; a transform such as a tanh soft-cap belongs here (and in the reference).
/// t = scale·raw, soft-capped to cap·tanh(t/cap) when the shape has a cap (lane by lane: only Gemma 2 pays for tanh).
TK_TARGET static inline VF FN(score)(VF raw, const tk_attention_shape *s) {
    VF t = raw * s->scale;
    if (s->soft_cap > 0) for (int i = 0; i < TK_W; i++) t[i] = s->soft_cap * tanhf(t[i] / s->soft_cap);
    return t;
}
/// dL/d(raw) from dL/dt: scale, times 1 - (t/cap)² under a soft-cap (t clamped to ±cap, so a masked -inf gives 0
/// rather than 0·inf).
TK_TARGET static inline VF FN(score_backward)(VF dt, VF t, const tk_attention_shape *s) {
    if (s->soft_cap <= 0) return dt * s->scale;
    const VF cap = FN(splat)(s->soft_cap);
    VF u = FN(select)(t < -cap, -cap, FN(select)(t > cap, cap, t)) / cap;
    return dt * s->scale * (1.0f - u * u);
}

TK_TARGET static inline float FN(hmax)(VF x) { float m = x[0]; for (int i = 1; i < TK_W; i++) m = x[i] > m ? x[i] : m; return m; }
TK_TARGET static inline float FN(hsum)(VF x) { float m = 0; for (int i = 0; i < TK_W; i++) m += x[i]; return m; }

/// C[m×n] = A·B, or C += A·B with `accumulate`: A[i][p] at a[i·rsa + p·csa], B[p][j] at b[p·ldb + j], C[i][j] at
/// c[i·ldc + j]. m is a multiple of 4 and n of TK_W; a 4 × 2W register tile.
TK_TARGET static void FN(gemm)(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsa, int64_t csa,
                               const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    for (int64_t i = 0; i < m; i += 4) {
        const float *a0 = a + i * rsa, *a1 = a0 + rsa, *a2 = a1 + rsa, *a3 = a2 + rsa;
        float *c0 = c + i * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
        int64_t j = 0;
        for (; j + 2 * TK_W <= n; j += 2 * TK_W) {
            VF x00 = {0}, x01 = {0}, x10 = {0}, x11 = {0}, x20 = {0}, x21 = {0}, x30 = {0}, x31 = {0};
            const float *bp = b + j;
            for (int64_t p = 0, o = 0; p < k; p++, o += csa, bp += ldb) {
                VF b0 = FN(load)(bp), b1 = FN(load)(bp + TK_W), t;
                t = FN(splat)(a0[o]); x00 += t * b0; x01 += t * b1;
                t = FN(splat)(a1[o]); x10 += t * b0; x11 += t * b1;
                t = FN(splat)(a2[o]); x20 += t * b0; x21 += t * b1;
                t = FN(splat)(a3[o]); x30 += t * b0; x31 += t * b1;
            }
            if (accumulate) {
                x00 += FN(load)(c0 + j); x01 += FN(load)(c0 + j + TK_W);
                x10 += FN(load)(c1 + j); x11 += FN(load)(c1 + j + TK_W);
                x20 += FN(load)(c2 + j); x21 += FN(load)(c2 + j + TK_W);
                x30 += FN(load)(c3 + j); x31 += FN(load)(c3 + j + TK_W);
            }
            FN(store)(c0 + j, x00); FN(store)(c0 + j + TK_W, x01);
            FN(store)(c1 + j, x10); FN(store)(c1 + j + TK_W, x11);
            FN(store)(c2 + j, x20); FN(store)(c2 + j + TK_W, x21);
            FN(store)(c3 + j, x30); FN(store)(c3 + j + TK_W, x31);
        }
        for (; j < n; j += TK_W) {
            VF x0 = {0}, x1 = {0}, x2 = {0}, x3 = {0};
            const float *bp = b + j;
            for (int64_t p = 0, o = 0; p < k; p++, o += csa, bp += ldb) {
                VF b0 = FN(load)(bp);
                x0 += FN(splat)(a0[o]) * b0; x1 += FN(splat)(a1[o]) * b0;
                x2 += FN(splat)(a2[o]) * b0; x3 += FN(splat)(a3[o]) * b0;
            }
            if (accumulate) {
                x0 += FN(load)(c0 + j); x1 += FN(load)(c1 + j); x2 += FN(load)(c2 + j); x3 += FN(load)(c3 + j);
            }
            FN(store)(c0 + j, x0); FN(store)(c1 + j, x1); FN(store)(c2 + j, x2); FN(store)(c3 + j, x3);
        }
    }
}

/// The first `ncols` scores of each block row in place: the transform, then -inf where the mask hides the key (each
/// key is checked when `visibility` is TK_BLOCK_PARTIAL; columns past the last key, j ≥ nk, are always hidden).
TK_TARGET static void FN(transform_and_mask)(const tk_attention_shape *s, float *sc, int64_t rows, int64_t nq, int64_t b,
                                             int64_t p0, int64_t k0, int64_t nk, int64_t ncols, int visibility) {
    for (int64_t r = 0; r < rows; r++) {
        float *row = sc + r * TK_BK;
        for (int64_t j = 0; j < ncols; j += TK_W) FN(store)(row + j, FN(score)(FN(load)(row + j), s));
        int64_t pos = p0 + r % nq;
        if (visibility == TK_BLOCK_PARTIAL) {
            for (int64_t j = 0; j < nk && j < ncols; j++) if (!tk_key_visible(s, b, pos, k0 + j)) row[j] = -INFINITY;
        }
        for (int64_t j = nk; j < ncols; j++) row[j] = -INFINITY;
    }
}

/// Columns of a key block that queries up to position p1 can reach, rounded up to whole vectors (the causal
/// diagonal leaves the rest of the block hidden).
static inline int64_t FN(reachable_columns)(int64_t p1, int64_t k0, int64_t nk) {
    return tk_round_up(tk_min(nk, p1 - k0 + 1), TK_W);
}

/// Rows [rows, m) of a block are padding: zero queries, zero weights.
TK_TARGET static int FN(forward)(const tk_attention_shape *s, const float *q, const void *k, const void *v,
                                 float *out, float *lse, int64_t item_begin, int64_t item_end) {
    const int64_t tq = s->query_length, tk = s->key_length, cap = s->key_capacity, h = s->heads, g = s->kv_heads;
    const int64_t d = s->head_dim, group = h / g, dp = tk_round_up(d, TK_W), nqb = (tq + TK_BQ - 1) / TK_BQ;
    const int64_t mb = tk_round_up(group * TK_BQ, 4), win = s->sliding_window, nkb = (tk + TK_BK - 1) / TK_BK;
    // K (transposed) and V of the current (batch, kv head), packed block by block as items first need them: a
    // worker's items are consecutive, so the query blocks of one pair share the packing.
    float *buffer = malloc(sizeof(float) * (size_t)(2 * mb * dp + mb * TK_BK + 2 * nkb * dp * TK_BK + 2 * mb));
    unsigned char *packed = calloc((size_t)nkb + 1, 1);
    if (!buffer || !packed) { free(buffer); free(packed); return -1; }
    float *qp = buffer, *acc = qp + mb * dp, *sc = acc + mb * dp, *kts = sc + mb * TK_BK, *vps = kts + nkb * dp * TK_BK;
    float *mx = vps + nkb * TK_BK * dp, *sum = mx + mb;
    int64_t packedPair = -1;
    for (int64_t item = item_begin; item < item_end; item++) {
        const int64_t b = item / (g * nqb), kvh = (item / nqb) % g, q0 = (item % nqb) * TK_BQ;
        if (item / nqb != packedPair) { packedPair = item / nqb; memset(packed, 0, (size_t)nkb); }
        const int64_t nq = tk_min(TK_BQ, tq - q0), rows = group * nq, m = tk_round_up(rows, 4);
        const int64_t p0 = s->query_offset + q0, p1 = p0 + nq - 1;
        memset(qp, 0, sizeof(float) * (size_t)(m * dp));
        memset(acc, 0, sizeof(float) * (size_t)(m * dp));
        for (int64_t r = 0; r < rows; r++) {
            memcpy(qp + r * dp, q + ((b * tq + q0 + r % nq) * h + kvh * group + r / nq) * d, sizeof(float) * (size_t)d);
        }
        for (int64_t r = 0; r < m; r++) { mx[r] = -INFINITY; sum[r] = 0; }
        const int64_t klo = win > 0 ? tk_max(0, p0 - win + 1) : 0, khi = tk_min(tk - 1, p1);
        for (int64_t k0 = klo / TK_BK * TK_BK; k0 <= khi; k0 += TK_BK) {
            const int64_t nk = tk_min(TK_BK, tk - k0);
            const int visibility = tk_block_visibility(s, b, p0, p1, k0, nk);
            if (visibility == TK_BLOCK_HIDDEN) continue;
            float *kt = kts + k0 / TK_BK * dp * TK_BK, *vp = vps + k0 / TK_BK * TK_BK * dp;
            if (!packed[k0 / TK_BK]) {
                packed[k0 / TK_BK] = 1;
                memset(kt, 0, sizeof(float) * (size_t)(dp * TK_BK));
                memset(vp, 0, sizeof(float) * (size_t)(TK_BK * dp));
                for (int64_t j = 0; j < nk; j++) {
                    const int64_t row = ((b * cap + k0 + j) * g + kvh) * d;
                    if (s->kv_f16) {   // an f16 KV cache, widened as it is packed
                        const uint16_t *kr = (const uint16_t *)k + row, *vr = (const uint16_t *)v + row;
                        for (int64_t e = 0; e < d; e++) { kt[e * TK_BK + j] = tk_f16_float(kr[e]); vp[j * dp + e] = tk_f16_float(vr[e]); }
                    } else {
                        const float *kr = (const float *)k + row, *vr = (const float *)v + row;
                        for (int64_t e = 0; e < d; e++) kt[e * TK_BK + j] = kr[e];
                        memcpy(vp + j * dp, vr, sizeof(float) * (size_t)d);
                    }
                }
            }
            const int64_t ncols = FN(reachable_columns)(p1, k0, nk);
            FN(gemm)(m, ncols, dp, qp, dp, 1, kt, TK_BK, sc, TK_BK, 0);
            FN(transform_and_mask)(s, sc, rows, nq, b, p0, k0, nk, ncols, visibility);
            // Online softmax: rescale what the row has so far to the new running maximum.
            for (int64_t r = 0; r < m; r++) {
                float *row = sc + r * TK_BK;
                if (r >= rows) { memset(row, 0, sizeof(float) * (size_t)ncols); continue; }
                VF vm = FN(load)(row);
                for (int64_t j = TK_W; j < ncols; j += TK_W) { VF x = FN(load)(row + j); vm = FN(select)(x > vm, x, vm); }
                const float blockMax = FN(hmax)(vm), newMax = blockMax > mx[r] ? blockMax : mx[r];
                if (newMax == -INFINITY) { memset(row, 0, sizeof(float) * (size_t)ncols); continue; }
                const float correction = mx[r] == -INFINITY ? 0 : expf(mx[r] - newMax);
                VF vs = {0};
                for (int64_t j = 0; j < ncols; j += TK_W) {
                    VF p = FN(exp)(FN(load)(row + j) - newMax);
                    FN(store)(row + j, p);
                    vs += p;
                }
                sum[r] = sum[r] * correction + FN(hsum)(vs);
                mx[r] = newMax;
                if (correction != 1) {
                    float *o = acc + r * dp;
                    for (int64_t e = 0; e < dp; e += TK_W) FN(store)(o + e, FN(load)(o + e) * correction);
                }
            }
            FN(gemm)(m, dp, ncols, sc, TK_BK, 1, vp, dp, acc, dp, 1);
        }
        for (int64_t r = 0; r < rows; r++) {
            const int64_t i = q0 + r % nq, head = kvh * group + r / nq;
            float *o = out + ((b * tq + i) * h + head) * d;
            const float inv = sum[r] > 0 ? 1 / sum[r] : 0;
            for (int64_t e = 0; e < d; e++) o[e] = acc[r * dp + e] * inv;
            if (lse) lse[(b * tq + i) * h + head] = sum[r] > 0 ? mx[r] + logf(sum[r]) : -INFINITY;
        }
    }
    free(buffer);
    free(packed);
    return 0;
}

/// FlashAttention-2's backward for the (batch, kv head) pairs [pair_begin, pair_end): P is recomputed block by
/// block from the saved log-sum-exp; D = rowsum(dO∘O), dS = P∘(dP − D); dQ += dS·K, dK += dSᵀ·Q, dV += Pᵀ·dO.
/// A pair owns its rows of dK, dV and its heads' dQ, so workers never write the same memory.
TK_TARGET static int FN(backward)(const tk_attention_shape *s, const float *q, const float *k, const float *v,
                                  const float *out, const float *dout, const float *lse,
                                  float *dq, float *dk, float *dv, int64_t pair_begin, int64_t pair_end) {
    const int64_t tq = s->query_length, tk = s->key_length, cap = s->key_capacity, h = s->heads, g = s->kv_heads;
    const int64_t d = s->head_dim, group = h / g, dp = tk_round_up(d, TK_W), nqb = (tq + TK_BQ - 1) / TK_BQ;
    const int64_t mb = tk_round_up(group * TK_BQ, 4), nkb = (tk + TK_BK - 1) / TK_BK;
    const size_t floats = (size_t)(3 * nqb * mb * dp + 2 * nqb * mb + 5 * TK_BK * dp + 3 * mb * TK_BK);
    float *buffer = malloc(sizeof(float) * floats);
    if (!buffer) return -1;
    float *qa = buffer, *doa = qa + nqb * mb * dp, *dqa = doa + nqb * mb * dp, *delta = dqa + nqb * mb * dp;
    float *ls = delta + nqb * mb, *kp = ls + nqb * mb, *kt = kp + TK_BK * dp, *vt = kt + dp * TK_BK;
    float *dka = vt + dp * TK_BK, *dva = dka + TK_BK * dp, *sc = dva + TK_BK * dp, *pb = sc + mb * TK_BK;
    float *ds = pb + mb * TK_BK;
    for (int64_t pair = pair_begin; pair < pair_end; pair++) {
        const int64_t b = pair / g, kvh = pair % g;
        memset(buffer, 0, sizeof(float) * (size_t)(3 * nqb * mb * dp + 2 * nqb * mb));
        for (int64_t qb = 0; qb < nqb; qb++) {
            const int64_t q0 = qb * TK_BQ, nq = tk_min(TK_BQ, tq - q0), rows = group * nq;
            for (int64_t r = 0; r < mb; r++) ls[qb * mb + r] = INFINITY;   // padding rows: P = exp(t - inf) = 0
            for (int64_t r = 0; r < rows; r++) {
                const int64_t row = (b * tq + q0 + r % nq) * h + kvh * group + r / nq;
                float *qr = qa + (qb * mb + r) * dp, *dor = doa + (qb * mb + r) * dp;
                memcpy(qr, q + row * d, sizeof(float) * (size_t)d);
                memcpy(dor, dout + row * d, sizeof(float) * (size_t)d);
                float dot = 0;
                for (int64_t e = 0; e < d; e++) dot += dor[e] * out[row * d + e];
                delta[qb * mb + r] = dot;
                ls[qb * mb + r] = lse[row] == -INFINITY ? INFINITY : lse[row];   // a row that saw nothing: P = 0
            }
        }
        for (int64_t kb = 0; kb < nkb; kb++) {
            const int64_t k0 = kb * TK_BK, nk = tk_min(TK_BK, tk - k0);
            memset(kp, 0, sizeof(float) * (size_t)(5 * TK_BK * dp));
            for (int64_t j = 0; j < nk; j++) {
                const float *kr = k + ((b * cap + k0 + j) * g + kvh) * d, *vr = v + ((b * cap + k0 + j) * g + kvh) * d;
                memcpy(kp + j * dp, kr, sizeof(float) * (size_t)d);
                for (int64_t e = 0; e < d; e++) { kt[e * TK_BK + j] = kr[e]; vt[e * TK_BK + j] = vr[e]; }
            }
            int touched = 0;
            for (int64_t qb = 0; qb < nqb; qb++) {
                const int64_t q0 = qb * TK_BQ, nq = tk_min(TK_BQ, tq - q0), rows = group * nq, m = tk_round_up(rows, 4);
                const int64_t p0 = s->query_offset + q0, p1 = p0 + nq - 1;
                const int visibility = tk_block_visibility(s, b, p0, p1, k0, nk);
                if (visibility == TK_BLOCK_HIDDEN) continue;
                touched = 1;
                const float *qi = qa + qb * mb * dp, *doi = doa + qb * mb * dp, *li = ls + qb * mb, *di = delta + qb * mb;
                const int64_t ncols = FN(reachable_columns)(p1, k0, nk);
                FN(gemm)(m, ncols, dp, qi, dp, 1, kt, TK_BK, sc, TK_BK, 0);
                FN(transform_and_mask)(s, sc, rows, nq, b, p0, k0, nk, ncols, visibility);
                for (int64_t r = 0; r < m; r++) {
                    const VF l = FN(splat)(li[r]);
                    for (int64_t j = 0; j < ncols; j += TK_W) FN(store)(pb + r * TK_BK + j, FN(exp)(FN(load)(sc + r * TK_BK + j) - l));
                }
                FN(gemm)(ncols, dp, m, pb, 1, TK_BK, doi, dp, dva, dp, 1);        // dV += Pᵀ·dO
                FN(gemm)(m, ncols, dp, doi, dp, 1, vt, TK_BK, ds, TK_BK, 0);     // dP = dO·Vᵀ
                for (int64_t r = 0; r < m; r++) {
                    const VF dr = FN(splat)(di[r]);
                    for (int64_t j = 0; j < ncols; j += TK_W) {
                        const int64_t o = r * TK_BK + j;
                        const VF dt = FN(load)(pb + o) * (FN(load)(ds + o) - dr);
                        FN(store)(ds + o, FN(score_backward)(dt, FN(load)(sc + o), s));
                    }
                }
                FN(gemm)(m, dp, ncols, ds, TK_BK, 1, kp, dp, dqa + qb * mb * dp, dp, 1);   // dQ += dS·K
                FN(gemm)(ncols, dp, m, ds, 1, TK_BK, qi, dp, dka, dp, 1);                 // dK += dSᵀ·Q
            }
            if (!touched) continue;
            for (int64_t j = 0; j < nk; j++) {
                float *dkr = dk + ((b * cap + k0 + j) * g + kvh) * d, *dvr = dv + ((b * cap + k0 + j) * g + kvh) * d;
                for (int64_t e = 0; e < d; e++) { dkr[e] += dka[j * dp + e]; dvr[e] += dva[j * dp + e]; }
            }
        }
        for (int64_t qb = 0; qb < nqb; qb++) {
            const int64_t q0 = qb * TK_BQ, nq = tk_min(TK_BQ, tq - q0), rows = group * nq;
            for (int64_t r = 0; r < rows; r++) {
                const int64_t row = (b * tq + q0 + r % nq) * h + kvh * group + r / nq;
                memcpy(dq + row * d, dqa + (qb * mb + r) * dp, sizeof(float) * (size_t)d);
            }
        }
    }
    free(buffer);
    return 0;
}

#if TK_W == 4
#define TK_EVEN_LANES 0, 2, 4, 6
#define TK_ODD_LANES 1, 3, 5, 7
#elif TK_W == 8
#define TK_EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14
#define TK_ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15
#else
#define TK_EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define TK_ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#endif

/// The lane sums of TK_W vectors as one vector (lane i: Σ a[i]), in log2(TK_W) rounds of pairwise sums of
/// neighbouring lanes: after each round, vector i holds the partial sums of vectors 2i and 2i + 1 side by side.
TK_TARGET static inline VF FN(transpose_sum)(VF *a) {
    for (int n = TK_W; n > 1; n /= 2) {
        for (int i = 0; i < n / 2; i++) {
            a[i] = __builtin_shufflevector(a[2 * i], a[2 * i + 1], TK_EVEN_LANES)
                 + __builtin_shufflevector(a[2 * i], a[2 * i + 1], TK_ODD_LANES);
        }
    }
    return a[0];
}
#undef TK_EVEN_LANES
#undef TK_ODD_LANES

/// TK_W f16 values (an f16 KV cache) widened to f32: F16C's vcvtph2ps in the AVX2 and AVX-512 bodies, one value at a
/// time in the portable one.
TK_TARGET static inline VF FN(load_f16)(const uint16_t *p) {
#if TK_W == 8 && TK_X86
    return (VF)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
#elif TK_W == 16 && TK_X86
    return (VF)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
#else
    VF x;
    for (int i = 0; i < TK_W; i++) x[i] = tk_f16_float(p[i]);
    return x;
#endif
}

// The decode kernel, once for an f32 KV cache and once for an f16 one.
#define KV_T float
#define KV_LOAD(p) FN(load)(p)
#define KV_VALUE(x) (x)
#define DN(name) FN(name)
#include "AttentionDecodeBody.h"
#undef KV_T
#undef KV_LOAD
#undef KV_VALUE
#undef DN
#define KV_T uint16_t
#define KV_LOAD(p) FN(load_f16)(p)
#define KV_VALUE(x) tk_f16_float(x)
#define DN(name) FN(name##_f16)
#include "AttentionDecodeBody.h"
#undef KV_T
#undef KV_LOAD
#undef KV_VALUE
#undef DN

#undef VF
#undef VI
#undef VFU
