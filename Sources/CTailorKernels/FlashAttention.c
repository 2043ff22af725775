// Blocked causal attention with an online softmax (FlashAttention-2 on the CPU): the forward keeps only the output and
// each row's log-sum-exp, the backward recomputes the probabilities block by block. Blocks the mask hides entirely
// (the causal upper half, other samples of a packed row, keys outside a sliding window) are skipped.
// See include/CTailorKernels.h; the kernel bodies are FlashAttentionBody.h, compiled once per instruction set
// (CompileBodies.h).
#include "CTailorKernels.h"
#include "InferenceKernelsShared.h"   // tk_f16_float, TK_X86 and the x86 intrinsics

#include <math.h>
#include <stdlib.h>
#include <string.h>

/// Query positions per block and keys per block. BK is a multiple of every vector width (16 floats).
#define TK_BQ 32
#define TK_BK 64

enum { TK_BLOCK_HIDDEN = 0, TK_BLOCK_VISIBLE = 1, TK_BLOCK_PARTIAL = 2 };


static inline int64_t tk_min(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t tk_max(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t tk_round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/// May the query at key position `pos` of batch entry `b` see key `j`? The same rule as Swift's `keyIsVisible`.
static inline int tk_key_visible(const tk_attention_shape *s, int64_t b, int64_t pos, int64_t j) {
    if (j > pos || j >= s->key_length) return 0;
    if (s->sliding_window > 0 && pos - j >= s->sliding_window) return 0;
    if (!s->segments) return 1;
    const int32_t key = s->segments[b * s->key_capacity + j];
    if (key < 0) return 0;
    const int32_t query = s->segments[b * s->key_capacity + pos];
    return query < 0 || query == key;
}

/// Whether the queries at positions [p0, p1] see none, all or some of the keys [k0, k0 + nk).
static int tk_block_visibility(const tk_attention_shape *s, int64_t b, int64_t p0, int64_t p1, int64_t k0, int64_t nk) {
    const int64_t k1 = k0 + nk - 1, win = s->sliding_window;
    if (nk <= 0 || k0 > p1) return TK_BLOCK_HIDDEN;
    if (win > 0 && p0 - k1 >= win) return TK_BLOCK_HIDDEN;
    int all = k1 <= p0 && (win <= 0 || p1 - k0 < win);
    if (s->segments) {
        const int32_t *seg = s->segments + b * s->key_capacity;
        int32_t kmin = INT32_MAX, kmax = INT32_MIN, qmin = INT32_MAX, qmax = INT32_MIN;
        int keyPadding = 0, queryPadding = 0;
        for (int64_t j = k0; j <= k1; j++) {
            if (seg[j] < 0) { keyPadding = 1; continue; }
            kmin = seg[j] < kmin ? seg[j] : kmin; kmax = seg[j] > kmax ? seg[j] : kmax;
        }
        if (kmin > kmax) return TK_BLOCK_HIDDEN;   // padding only
        for (int64_t p = p0; p <= p1; p++) {
            if (seg[p] < 0) { queryPadding = 1; continue; }
            qmin = seg[p] < qmin ? seg[p] : qmin; qmax = seg[p] > qmax ? seg[p] : qmax;
        }
        if (!queryPadding && (qmax < kmin || qmin > kmax)) return TK_BLOCK_HIDDEN;
        // Padding queries see every valid key, so one key segment equal to every real query's is all visible.
        if (keyPadding || kmin != kmax || (qmin <= qmax && (qmin != kmin || qmax != kmin))) all = 0;
    }
    return all ? TK_BLOCK_VISIBLE : TK_BLOCK_PARTIAL;
}

#define TK_BODY "FlashAttentionBody.h"
#define TK_BODY_AVX512
#include "CompileBodies.h"

int tk_attention_instruction_set(void) {
#if TK_X86_BODIES
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") ? TK_KERNEL_AVX512
            : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
                ? TK_KERNEL_AVX2 : TK_KERNEL_SCALAR;
    }
    const int cap = tk_inference_kernel_cap();
    return cached < cap ? cached : cap;
#else
    return 0;
#endif
}

int64_t tk_attention_forward_items(const tk_attention_shape *s) {
    return s->batch * s->kv_heads * ((s->query_length + TK_BQ - 1) / TK_BQ);
}

int tk_attention_forward(const tk_attention_shape *s, const float *q, const void *k, const void *v, float *out,
                         float *lse, int64_t item_begin, int64_t item_end) {
#if TK_X86_BODIES
    switch (tk_attention_instruction_set()) {
    case 2: return forward_avx512(s, q, k, v, out, lse, item_begin, item_end);
    case 1: return forward_avx2(s, q, k, v, out, lse, item_begin, item_end);
    default: break;
    }
#endif
    return forward_portable(s, q, k, v, out, lse, item_begin, item_end);
}

int tk_attention_backward(const tk_attention_shape *s, const float *q, const float *k, const float *v, const float *out,
                          const float *dout, const float *lse, float *dq, float *dk, float *dv,
                          int64_t pair_begin, int64_t pair_end) {
#if TK_X86_BODIES
    switch (tk_attention_instruction_set()) {
    case 2: return backward_avx512(s, q, k, v, out, dout, lse, dq, dk, dv, pair_begin, pair_end);
    case 1: return backward_avx2(s, q, k, v, out, dout, lse, dq, dk, dv, pair_begin, pair_end);
    default: break;
    }
#endif
    return backward_portable(s, q, k, v, out, dout, lse, dq, dk, dv, pair_begin, pair_end);
}

int64_t tk_attention_decode_items(const tk_attention_shape *s) {
    return s->batch * s->kv_heads * ((s->key_length + TK_BK - 1) / TK_BK);
}

int tk_attention_decode(const tk_attention_shape *s, const float *q, const void *k, const void *v, float *partial,
                        int64_t item_begin, int64_t item_end) {
    float *scratch = malloc(sizeof(float) * (size_t)(s->heads / s->kv_heads * s->query_length * TK_BK));
    if (!scratch) return -1;
    const int isa = tk_attention_instruction_set();
#if TK_X86_BODIES
#define TK_RUN_DECODE(name, ...) \
    (isa == 2 ? name##_avx512(__VA_ARGS__) : isa == 1 ? name##_avx2(__VA_ARGS__) : name##_portable(__VA_ARGS__))
#else
#define TK_RUN_DECODE(name, ...) name##_portable(__VA_ARGS__)
#endif
    if (s->kv_f16) {
        TK_RUN_DECODE(decode_f16, s, q, (const uint16_t *)k, (const uint16_t *)v, partial, scratch, item_begin, item_end);
    } else {
        TK_RUN_DECODE(decode, s, q, (const float *)k, (const float *)v, partial, scratch, item_begin, item_end);
    }
#undef TK_RUN_DECODE
    (void)isa;
    free(scratch);
    return 0;
}

void tk_attention_decode_combine(const tk_attention_shape *s, const float *partial, float *out, float *lse) {
    const int64_t tq = s->query_length, h = s->heads, g = s->kv_heads, d = s->head_dim, group = h / g;
    const int64_t rows = group * tq, nc = (s->key_length + TK_BK - 1) / TK_BK, stride = d + 2;
    for (int64_t b = 0; b < s->batch; b++) {
        for (int64_t kvh = 0; kvh < g; kvh++) {
            // Item (b, c, kvh) is number (b·nc + c)·g + kvh; chunk c of row r lies at first + (c·g·rows + r)·stride.
            const float *first = partial + (b * nc * g + kvh) * rows * stride;
            for (int64_t r = 0; r < rows; r++) {
                const int64_t i = r % tq, head = kvh * group + r / tq;
                float *o = out + ((b * tq + i) * h + head) * d;
                float mx = -INFINITY, sum = 0;
                for (int64_t c = 0; c < nc; c++) { const float m = first[(c * g * rows + r) * stride]; mx = m > mx ? m : mx; }
                for (int64_t e = 0; e < d; e++) o[e] = 0;
                if (mx == -INFINITY) { if (lse) lse[(b * tq + i) * h + head] = -INFINITY; continue; }
                for (int64_t c = 0; c < nc; c++) {
                    const float *p = first + (c * g * rows + r) * stride;
                    if (p[0] == -INFINITY) continue;
                    const float w = expf(p[0] - mx);
                    sum += w * p[1];
                    for (int64_t e = 0; e < d; e++) o[e] += w * p[2 + e];
                }
                const float inv = sum > 0 ? 1 / sum : 0;
                for (int64_t e = 0; e < d; e++) o[e] *= inv;
                if (lse) lse[(b * tq + i) * h + head] = sum > 0 ? mx + logf(sum) : -INFINITY;
            }
        }
    }
}
