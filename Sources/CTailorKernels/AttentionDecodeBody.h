// The decode kernel of attention (a few query positions against a long KV cache) for one instruction set and one
// cache element type: FlashAttentionBody.h includes it twice per instruction set, with KV_T (float or uint16_t f16
// bits), KV_LOAD(p) (TK_W cache values as f32), KV_VALUE(x) (one value as f32) and DN(name) (the name with the
// variant's suffixes) defined.

/// The scores of one query row `qr` against the key rows kb + j·ldk, j < n ≤ TK_W, as one vector (lane j: q·k_j;
/// lanes past n: 0): one accumulator per key over the head's `d` floats, the scalar tail added last.
TK_TARGET static inline VF DN(head_dots)(const float *qr, const KV_T *kb, int64_t ldk, int64_t n, int64_t d) {
    VF a[TK_W];
    for (int j = 0; j < TK_W; j++) a[j] = (VF){0};
    int64_t e = 0;
    if (n == TK_W) {
        for (; e + TK_W <= d; e += TK_W) {
            const VF x = FN(load)(qr + e);
            for (int j = 0; j < TK_W; j++) a[j] += x * KV_LOAD(kb + j * ldk + e);
        }
    } else {
        for (; e + TK_W <= d; e += TK_W) {
            const VF x = FN(load)(qr + e);
            for (int j = 0; j < n; j++) a[j] += x * KV_LOAD(kb + j * ldk + e);
        }
    }
    VF t = FN(transpose_sum)(a);
    for (; e < d; e++) for (int64_t j = 0; j < n; j++) t[j] += qr[e] * KV_VALUE(kb[j * ldk + e]);
    return t;
}

/// acc[0, d) += Σ_j p[j]·v_j over `n` value rows v_j = v + j·ldv: four vector accumulators per pass, two keys at a
/// time (eight independent sums), then the scalar tail.
TK_TARGET static void DN(weighted_rows)(float *acc, const float *p, const KV_T *v, int64_t ldv, int64_t n, int64_t d) {
    int64_t e = 0;
    for (; e + 4 * TK_W <= d; e += 4 * TK_W) {
        VF a0 = FN(load)(acc + e), a1 = FN(load)(acc + e + TK_W), a2 = FN(load)(acc + e + 2 * TK_W), a3 = FN(load)(acc + e + 3 * TK_W);
        VF b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        int64_t j = 0;
        for (; j + 2 <= n; j += 2) {
            const KV_T *v0 = v + j * ldv + e, *v1 = v0 + ldv;
            const VF p0 = FN(splat)(p[j]), p1 = FN(splat)(p[j + 1]);
            a0 += p0 * KV_LOAD(v0); a1 += p0 * KV_LOAD(v0 + TK_W); a2 += p0 * KV_LOAD(v0 + 2 * TK_W); a3 += p0 * KV_LOAD(v0 + 3 * TK_W);
            b0 += p1 * KV_LOAD(v1); b1 += p1 * KV_LOAD(v1 + TK_W); b2 += p1 * KV_LOAD(v1 + 2 * TK_W); b3 += p1 * KV_LOAD(v1 + 3 * TK_W);
        }
        if (j < n) {
            const KV_T *v0 = v + j * ldv + e;
            const VF p0 = FN(splat)(p[j]);
            a0 += p0 * KV_LOAD(v0); a1 += p0 * KV_LOAD(v0 + TK_W); a2 += p0 * KV_LOAD(v0 + 2 * TK_W); a3 += p0 * KV_LOAD(v0 + 3 * TK_W);
        }
        FN(store)(acc + e, a0 + b0); FN(store)(acc + e + TK_W, a1 + b1);
        FN(store)(acc + e + 2 * TK_W, a2 + b2); FN(store)(acc + e + 3 * TK_W, a3 + b3);
    }
    for (; e + TK_W <= d; e += TK_W) {
        VF a = FN(load)(acc + e), b2 = {0};
        int64_t j = 0;
        for (; j + 2 <= n; j += 2) { a += FN(splat)(p[j]) * KV_LOAD(v + j * ldv + e); b2 += FN(splat)(p[j + 1]) * KV_LOAD(v + (j + 1) * ldv + e); }
        if (j < n) a += FN(splat)(p[j]) * KV_LOAD(v + j * ldv + e);
        FN(store)(acc + e, a + b2);
    }
    for (; e < d; e++) {
        float a = acc[e];
        for (int64_t j = 0; j < n; j++) a += p[j] * KV_VALUE(v[j * ldv + e]);
        acc[e] = a;
    }
}

/// Decode-shaped attention (a few query positions against a long cache), split over the keys as flash-decoding
/// does: item = (batch, chunk of TK_BK keys, kv head), so that a worker's items cover consecutive keys. Reads K and
/// V rows where they lie (no packing) and writes,
/// for each of the item's rows (the group's heads × query positions, row r: head r / Tq, position r % Tq), the
/// chunk's running maximum m, Σ e^(t−m) and Σ e^(t−m)·v: `part[(item·rows + r)·(D + 2) + {0, 1, 2…}]`; a chunk that
/// the row cannot see gets m = -inf, sum 0. `scratch` holds rows × TK_BK floats.
TK_TARGET static void DN(decode)(const tk_attention_shape *s, const float *q, const KV_T *k, const KV_T *v,
                                 float *part, float *scratch, int64_t item_begin, int64_t item_end) {
    const int64_t tq = s->query_length, tk = s->key_length, cap = s->key_capacity, h = s->heads, g = s->kv_heads;
    const int64_t d = s->head_dim, group = h / g, rows = group * tq, nc = (tk + TK_BK - 1) / TK_BK, stride = d + 2;
    const int64_t p0 = s->query_offset, p1 = p0 + tq - 1;
    float *sc = scratch;
    for (int64_t item = item_begin; item < item_end; item++) {
        const int64_t b = item / (g * nc), k0 = (item / g) % nc * TK_BK, kvh = item % g, nk = tk_min(TK_BK, tk - k0);
        float *pr = part + item * rows * stride;
        for (int64_t r = 0; r < rows; r++) {
            pr[r * stride] = -INFINITY; pr[r * stride + 1] = 0;
            memset(pr + r * stride + 2, 0, sizeof(float) * (size_t)d);
        }
        const int visibility = tk_block_visibility(s, b, p0, p1, k0, nk);
        if (visibility == TK_BLOCK_HIDDEN) continue;
        const KV_T *kb = k + ((b * cap + k0) * g + kvh) * d, *vb = v + ((b * cap + k0) * g + kvh) * d;
        const int64_t ldk = g * d, ncols = tk_round_up(nk, TK_W);
        for (int64_t r = 0; r < rows; r++) {
            const float *qr = q + ((b * tq + r % tq) * h + kvh * group + r / tq) * d;
            for (int64_t j = 0; j < nk; j += TK_W) FN(store)(sc + r * TK_BK + j, DN(head_dots)(qr, kb + j * ldk, ldk, tk_min(TK_W, nk - j), d));
        }
        FN(transform_and_mask)(s, sc, rows, tq, b, p0, k0, nk, ncols, visibility);
        for (int64_t r = 0; r < rows; r++) {
            float *row = sc + r * TK_BK, *o = pr + r * stride;
            VF vm = FN(load)(row);
            for (int64_t j = TK_W; j < ncols; j += TK_W) { VF x = FN(load)(row + j); vm = FN(select)(x > vm, x, vm); }
            const float mx = FN(hmax)(vm);
            if (mx == -INFINITY) continue;
            VF vs = {0};
            for (int64_t j = 0; j < ncols; j += TK_W) {
                VF e = FN(exp)(FN(load)(row + j) - mx);
                FN(store)(row + j, e);
                vs += e;
            }
            o[0] = mx; o[1] = FN(hsum)(vs);
            DN(weighted_rows)(o + 2, row, vb, ldk, nk, d);
        }
    }
}

