// The AVX2 + FMA + F16C bodies of the inference kernels (x86-64 CPUs without AVX-512: Zen 1–3, Haswell–Alder Lake),
// compiled for those instructions only (target attribute) and chosen at run time by InferenceKernels.c. They compute
// the scalar bodies' sums in another order. Legend as in include/CTailorKernels.h.
#include "InferenceKernelsShared.h"

#if TK_X86
#define TK_AVX2 __attribute__((target("avx2,fma,f16c")))

TK_AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

// MARK: bf16

// Four weight rows against `rows` (1 or 2) input rows, 16 values a step. A bf16 value is the top half of an f32, so
// unpacking zeros below each 16-bit lane widens it exactly: unpacklo takes values 0–3 and 8–11 of the 16, unpackhi
// 4–7 and 12–15, the same lanes for weight and input, so their products pair up. The last k mod 16 values are
// summed one by one. Rows past the end of the weight repeat the last one and are not stored. One input row keeps the
// low and high halves in separate accumulators (eight independent FMA chains instead of four).
TK_AVX2 __attribute__((always_inline)) static inline void
bf16_tile(const uint16_t *xb, size_t rows, const uint16_t *w, size_t k, size_t j, size_t row_end, float *y, size_t ldy) {
    const uint16_t *wr[4];
    for (int r = 0; r < 4; r++) wr[r] = w + tk_min_size(j + r, row_end - 1) * k;
    const __m256i zero = _mm256_setzero_si256();
    __m256 acc[4][2];
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const size_t k16 = k & ~(size_t)15;
    const size_t next = 2 * (j + 4) * k;   // byte offset of the next tile
    for (size_t p = 0; p < k16; p += 16) {
        tk_prefetch_weight(w, next + 8 * p, 128);
        __m256 xlo[2], xhi[2];
        for (size_t i = 0; i < rows; i++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xb + i * k + p));
            xlo[i] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, xv));
            xhi[i] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, xv));
        }
        for (int r = 0; r < 4; r++) {
            __m256i wv = _mm256_loadu_si256((const __m256i *)(wr[r] + p));
            __m256 wlo = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, wv));
            __m256 whi = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, wv));
            if (rows == 1) {
                acc[r][0] = _mm256_fmadd_ps(wlo, xlo[0], acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(whi, xhi[0], acc[r][1]);
            } else {
                for (size_t i = 0; i < rows; i++) {
                    acc[r][i] = _mm256_fmadd_ps(wlo, xlo[i], acc[r][i]);
                    acc[r][i] = _mm256_fmadd_ps(whi, xhi[i], acc[r][i]);
                }
            }
        }
    }
    for (int r = 0; r < 4 && j + r < row_end; r++) {
        for (size_t i = 0; i < rows; i++) {
            float sum = rows == 1 ? hsum(_mm256_add_ps(acc[r][0], acc[r][1])) : hsum(acc[r][i]);
            for (size_t p = k16; p < k; p++) sum += tk_bf16_float(xb[i * k + p]) * tk_bf16_float(wr[r][p]);
            y[i * ldy + j + r] = sum;
        }
    }
}

TK_AVX2 void tk_gemm_bf16_avx2(const uint16_t *xb, size_t m, const uint16_t *w, size_t k, size_t row_begin,
                               size_t row_end, float *y, size_t ldy) {
    for (size_t j = row_begin; j < row_end; j += 4) {
        for (size_t i = 0; i < m; i += 2) {
            if (m - i == 1) bf16_tile(xb + i * k, 1, w, k, j, row_end, y + i * ldy, ldy);
            else bf16_tile(xb + i * k, 2, w, k, j, row_end, y + i * ldy, ldy);
        }
    }
}

// MARK: int8 (q8_0)

// Four weight rows against `rows` (1 or 2) input rows, one block of 32 a step (llama.cpp's AVX2 q8_0 · q8_0):
// vpmaddubsw multiplies unsigned by signed bytes, so |w| (unsigned) meets x with w's sign (vpsignb: negated where
// w < 0, zero where w = 0), giving w·x in pairs summed to int16 — at most 2·127·127 < 2¹⁵ since q8_0 values lie in
// [-127, 127] — then vpmaddwd by ones sums pairs of those to int32. Each block's exact integer sum, converted to
// f32, is scaled by the product of its two scales.
TK_AVX2 __attribute__((always_inline)) static inline void
q8_tile(const int8_t *xq, const float *xd, size_t rows, const int8_t *wq, const uint16_t *wd, size_t k, size_t j,
        size_t row_end, float *y, size_t ldy) {
    const size_t blocks = k / TK_Q8_BLOCK;
    const int8_t *wr[4];
    const uint16_t *sr[4];
    tk_q8_tile_rows(wq, wd, k, j, row_end, wr, sr);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4][2];
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const size_t next = (j + 4) * k;   // byte offset of the next tile
    for (size_t b = 0; b < blocks; b++) {
        tk_prefetch_weight(wq, next + 4 * TK_Q8_BLOCK * b, 4 * TK_Q8_BLOCK);
        __m256i xv[2], ax[2];
        for (size_t i = 0; i < rows; i++) {
            xv[i] = _mm256_loadu_si256((const __m256i *)(xq + i * k + b * TK_Q8_BLOCK));
            ax[i] = _mm256_sign_epi8(xv[i], xv[i]);
        }
        for (int r = 0; r < 4; r++) {
            __m256i wv = _mm256_loadu_si256((const __m256i *)(wr[r] + b * TK_Q8_BLOCK));
            float ws = _cvtsh_ss(sr[r][b]);
            for (size_t i = 0; i < rows; i++) {
                __m256i pairs = _mm256_maddubs_epi16(ax[i], _mm256_sign_epi8(wv, xv[i]));
                __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
                acc[r][i] = _mm256_fmadd_ps(dot, _mm256_set1_ps(ws * xd[i * blocks + b]), acc[r][i]);
            }
        }
    }
    for (int r = 0; r < 4 && j + r < row_end; r++)
        for (size_t i = 0; i < rows; i++) y[i * ldy + j + r] = hsum(acc[r][i]);
}

TK_AVX2 void tk_gemm_q8_avx2(const int8_t *xq, const float *xd, size_t m, const int8_t *wq, const uint16_t *wd,
                             size_t k, size_t row_begin, size_t row_end, float *y, size_t ldy) {
    const size_t blocks = k / TK_Q8_BLOCK;
    for (size_t j = row_begin; j < row_end; j += 4) {
        for (size_t i = 0; i < m; i += 2) {
            const int8_t *x = xq + i * k;
            const float *s = xd + i * blocks;
            if (m - i == 1) q8_tile(x, s, 1, wq, wd, k, j, row_end, y + i * ldy, ldy);
            else q8_tile(x, s, 2, wq, wd, k, j, row_end, y + i * ldy, ldy);
        }
    }
}

// Quantizes `blocks` blocks of 32 values as the scalar quantize_block does, bit for bit: the same scale, the same
// reciprocal and one multiply per value, and roundf's rounding (half away from zero) rebuilt from truncation: t =
// trunc(v), plus sign(v) where |v − t| ≥ 0.5 (v − t is exact). The int32 results are packed to bytes in order
// (packs interleaves 128-bit lanes; the final permutation undoes it).
TK_AVX2 void tk_quantize_q8_blocks_avx2(const float *x, size_t blocks, int8_t *q, float *scales) {
    const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (size_t b = 0; b < blocks; b++) {
        const float *xb = x + b * TK_Q8_BLOCK;
        __m256 v[4], amax = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(xb + 8 * i);
            amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float d = _mm_cvtss_f32(m4) / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        scales[b] = d;
        const __m256 scale = _mm256_set1_ps(id);
        __m256i n[4];
        for (int i = 0; i < 4; i++) {
            __m256 y = _mm256_mul_ps(v[i], scale);
            __m256 t = _mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            __m256 away = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(y, t)), half, _CMP_GE_OQ);
            t = _mm256_add_ps(t, _mm256_and_ps(away, _mm256_or_ps(_mm256_and_ps(y, sign), one)));
            n[i] = _mm256_cvttps_epi32(t);
        }
        __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(n[0], n[1]), _mm256_packs_epi32(n[2], n[3]));
        _mm256_storeu_si256((__m256i *)(q + b * TK_Q8_BLOCK), _mm256_permutevar8x32_epi32(packed, order));
    }
}

// MARK: memory probe

TK_AVX2 uint64_t tk_read_memory_avx2(const void *p, size_t bytes) {
    const char *base = (const char *)p;
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 128 <= bytes; i += 128) {
        a = _mm256_xor_si256(a, _mm256_loadu_si256((const __m256i *)(base + i)));
        b = _mm256_xor_si256(b, _mm256_loadu_si256((const __m256i *)(base + i + 32)));
        c = _mm256_xor_si256(c, _mm256_loadu_si256((const __m256i *)(base + i + 64)));
        d = _mm256_xor_si256(d, _mm256_loadu_si256((const __m256i *)(base + i + 96)));
    }
    for (; i + 32 <= bytes; i += 32) a = _mm256_xor_si256(a, _mm256_loadu_si256((const __m256i *)(base + i)));
    a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    __m128i s = _mm_xor_si128(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
}

TK_AVX2 void tk_round_f16_avx2(const float *x, uint16_t *out, size_t count) {
    for (size_t i = 0; i + 8 <= count; i += 8) {
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    }
}

#endif
