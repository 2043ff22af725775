// Inference kernels: bf16 and q8_0-style int8 matrix products for few input rows (decode), a memory-read probe.
// See include/CTailorKernels.h. Each has a scalar body, an AVX2 + FMA + F16C body (InferenceKernelsAVX2.c) and an
// AVX-512 body (here), the vector ones compiled for those instructions only (target attribute); the best one the
// CPU has runs, chosen at run time. The vector bodies compute the scalar bodies' sums in another order.
#include "InferenceKernelsShared.h"

#include <math.h>

#if TK_X86
#define TK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx512vnni,f16c")))
#endif

static int kernel_cap = TK_KERNEL_AVX512;

void tk_cap_inference_kernel(int level) { kernel_cap = level; }

int tk_inference_kernel_cap(void) { return kernel_cap; }

static int cpu_kernel(void) {
#if TK_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16")
            && __builtin_cpu_supports("avx512vnni"))
            cached = TK_KERNEL_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
            cached = TK_KERNEL_AVX2;
        else
            cached = TK_KERNEL_SCALAR;
    }
    return cached;
#else
    return TK_KERNEL_SCALAR;
#endif
}

int tk_inference_kernel(void) {
    int cpu = cpu_kernel();
    return cpu < kernel_cap ? cpu : kernel_cap;
}

static inline uint16_t bf16_round(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if (value != value) return (uint16_t)((bits | 0x00400000u) >> 16);
    uint32_t rounding = ((bits >> 16) & 1u) + 0x7FFFu;
    return (uint16_t)((bits + rounding) >> 16);
}

static inline uint16_t f16_bits(float value) {
    _Float16 half = (_Float16)value;
    uint16_t bits;
    memcpy(&bits, &half, 2);
    return bits;
}

void tk_round_bf16(const float *x, uint16_t *out, size_t count) {
    for (size_t i = 0; i < count; i++) out[i] = bf16_round(x[i]);
}

void tk_round_f16(const float *x, uint16_t *out, size_t count) {
    size_t i = 0;
#if TK_X86
    if (tk_inference_kernel() >= TK_KERNEL_AVX2) {
        i = count - count % 8;
        tk_round_f16_avx2(x, out, i);
    }
#endif
    for (; i < count; i++) {
        _Float16 half = (_Float16)x[i];
        memcpy(out + i, &half, 2);
    }
}

void tk_widen_bf16(const uint16_t *x, float *out, size_t count) {
    for (size_t i = 0; i < count; i++) out[i] = tk_bf16_float(x[i]);
}

// MARK: bf16

static void gemm_bf16_scalar(const uint16_t *xb, size_t m, const uint16_t *w, size_t k, size_t row_begin,
                             size_t row_end, float *y, size_t ldy) {
    for (size_t j = row_begin; j < row_end; j++) {
        const uint16_t *wr = w + j * k;
        for (size_t i = 0; i < m; i++) {
            const uint16_t *xr = xb + i * k;
            float sum = 0;
            for (size_t p = 0; p < k; p++) sum += tk_bf16_float(xr[p]) * tk_bf16_float(wr[p]);
            y[i * ldy + j] = sum;
        }
    }
}

#if TK_X86
// Four weight rows against `rows` (1…4) input rows; rows past the end of the weight repeat the last one and are not
// stored. Inlined into one copy per `rows` so that the accumulators stay in registers.
TK_AVX512 __attribute__((always_inline)) static inline void
bf16_tile(const uint16_t *xb, size_t rows, const uint16_t *w, size_t k, size_t j, size_t row_end, float *y, size_t ldy) {
    const uint16_t *wr[4];
    for (int r = 0; r < 4; r++) wr[r] = w + tk_min_size(j + r, row_end - 1) * k;
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (size_t i = 0; i < rows; i++) acc[r][i] = _mm512_setzero_ps();
    const size_t next = 2 * (j + 4) * k;   // byte offset of the next tile
    for (size_t p = 0; p < k; p += 32) {
        tk_prefetch_weight(w, next + 8 * p, 256);
        __mmask32 mask = k - p >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << (k - p)) - 1);
        __m512i wv[4];
        for (int r = 0; r < 4; r++) wv[r] = _mm512_maskz_loadu_epi16(mask, wr[r] + p);
        for (size_t i = 0; i < rows; i++) {
            __m512i xv = _mm512_maskz_loadu_epi16(mask, xb + i * k + p);
            for (int r = 0; r < 4; r++) acc[r][i] = _mm512_dpbf16_ps(acc[r][i], (__m512bh)wv[r], (__m512bh)xv);
        }
    }
    for (int r = 0; r < 4 && j + r < row_end; r++)
        for (size_t i = 0; i < rows; i++) y[i * ldy + j + r] = _mm512_reduce_add_ps(acc[r][i]);
}

TK_AVX512 static void gemm_bf16_avx512(const uint16_t *xb, size_t m, const uint16_t *w, size_t k, size_t row_begin,
                                       size_t row_end, float *y, size_t ldy) {
    for (size_t j = row_begin; j < row_end; j += 4) {
        for (size_t i = 0; i < m; i += 4) {
            const uint16_t *x = xb + i * k;
            float *out = y + i * ldy;
            switch (tk_min_size(4, m - i)) {
            case 1: bf16_tile(x, 1, w, k, j, row_end, out, ldy); break;
            case 2: bf16_tile(x, 2, w, k, j, row_end, out, ldy); break;
            case 3: bf16_tile(x, 3, w, k, j, row_end, out, ldy); break;
            default: bf16_tile(x, 4, w, k, j, row_end, out, ldy); break;
            }
        }
    }
}
#endif

void tk_gemm_bf16(const uint16_t *xb, size_t m, const uint16_t *w, size_t k, size_t row_begin, size_t row_end,
                  float *y, size_t ldy) {
    if (row_begin >= row_end || m == 0) return;
#if TK_X86
    switch (tk_inference_kernel()) {
    case TK_KERNEL_AVX512: gemm_bf16_avx512(xb, m, w, k, row_begin, row_end, y, ldy); return;
    case TK_KERNEL_AVX2: tk_gemm_bf16_avx2(xb, m, w, k, row_begin, row_end, y, ldy); return;
    default: break;
    }
#endif
    gemm_bf16_scalar(xb, m, w, k, row_begin, row_end, y, ldy);
}

// MARK: int8 (q8_0)

// One block: scale = max|x|/127, q = round(x/scale) (GGML's quantize_row_q8_0_ref).
static inline float quantize_block(const float *x, int8_t *q, float *rounded_scale_out, int f16_scale) {
    float amax = 0;
    for (int i = 0; i < TK_Q8_BLOCK; i++) amax = fmaxf(amax, fabsf(x[i]));
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    for (int i = 0; i < TK_Q8_BLOCK; i++) q[i] = (int8_t)roundf(x[i] * id);
    *rounded_scale_out = f16_scale ? tk_f16_float(f16_bits(d)) : d;
    return d;
}

void tk_quantize_q8(const float *x, size_t m, size_t k, int8_t *q, float *scales) {
    size_t blocks = m * (k / TK_Q8_BLOCK);
#if TK_X86
    if (tk_inference_kernel() >= TK_KERNEL_AVX2) {
        tk_quantize_q8_blocks_avx2(x, blocks, q, scales);
        return;
    }
#endif
    for (size_t b = 0; b < blocks; b++) quantize_block(x + b * TK_Q8_BLOCK, q + b * TK_Q8_BLOCK, scales + b, 0);
}

void tk_quantize_q8_weights(const float *x, size_t n, size_t k, int8_t *q, uint16_t *scales) {
    size_t blocks = n * (k / TK_Q8_BLOCK);
#if TK_X86
    if (tk_inference_kernel() >= TK_KERNEL_AVX2) {
        float d[64];
        for (size_t b = 0; b < blocks; b += 64) {
            size_t count = tk_min_size(64, blocks - b);
            tk_quantize_q8_blocks_avx2(x + b * TK_Q8_BLOCK, count, q + b * TK_Q8_BLOCK, d);
            for (size_t i = 0; i < count; i++) scales[b + i] = f16_bits(d[i]);
        }
        return;
    }
#endif
    for (size_t b = 0; b < blocks; b++) {
        float rounded;
        float d = quantize_block(x + b * TK_Q8_BLOCK, q + b * TK_Q8_BLOCK, &rounded, 1);
        scales[b] = f16_bits(d);
    }
}

void tk_dequantize_q8_rows(const int8_t *q, const uint16_t *scales, size_t rows, size_t k, float *out) {
    size_t blocks = rows * (k / TK_Q8_BLOCK);
    for (size_t b = 0; b < blocks; b++) {
        float d = tk_f16_float(scales[b]);
        for (int e = 0; e < TK_Q8_BLOCK; e++) out[b * TK_Q8_BLOCK + e] = (float)q[b * TK_Q8_BLOCK + e] * d;
    }
}

static void gemm_q8_scalar(const int8_t *xq, const float *xd, size_t m, const int8_t *wq, const uint16_t *wd,
                           size_t k, size_t row_begin, size_t row_end, float *y, size_t ldy) {
    size_t blocks = k / TK_Q8_BLOCK;
    for (size_t j = row_begin; j < row_end; j++) {
        for (size_t i = 0; i < m; i++) {
            float sum = 0;
            for (size_t b = 0; b < blocks; b++) {
                const int8_t *wb = wq + j * k + b * TK_Q8_BLOCK, *xb = xq + i * k + b * TK_Q8_BLOCK;
                int32_t dot = 0;
                for (int e = 0; e < TK_Q8_BLOCK; e++) dot += (int32_t)wb[e] * (int32_t)xb[e];
                sum += (float)dot * (tk_f16_float(wd[j * blocks + b]) * xd[i * blocks + b]);
            }
            y[i * ldy + j] = sum;
        }
    }
}

#if TK_X86
// vpdpbusd multiplies unsigned by signed bytes: w + 128 (w xor 0x80) is unsigned, and the excess 128·Σx of every
// 4-byte lane is subtracted by starting each lane's sum at -128·Σx (computed once per input row and pair of blocks).
// Lanes 0–7 of a 64-byte step hold block 2p, lanes 8–15 block 2p+1; each lane's exact integer sum is converted
// to f32 and multiplied by the product of its block's two scales.
TK_AVX512 __attribute__((always_inline)) static inline void
q8_tile(const int8_t *xq, const float *xd, size_t rows, const int8_t *wq, const uint16_t *wd, size_t k, size_t j,
        size_t row_end, float *y, size_t ldy) {
    const size_t blocks = k / TK_Q8_BLOCK;
    const int8_t *wr[4];
    const uint16_t *sr[4];
    tk_q8_tile_rows(wq, wd, k, j, row_end, wr, sr);
    const __m512i offset = _mm512_set1_epi8((char)0x80);
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (size_t i = 0; i < rows; i++) acc[r][i] = _mm512_setzero_ps();
    const size_t next = (j + 4) * k;   // byte offset of the next tile
    size_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        tk_prefetch_weight(wq, next + 4 * TK_Q8_BLOCK * b, 8 * TK_Q8_BLOCK);
        __m512i wv[4];
        __m512 ws[4];
        for (int r = 0; r < 4; r++) {
            wv[r] = _mm512_xor_si512(_mm512_loadu_si512(wr[r] + b * TK_Q8_BLOCK), offset);
            uint32_t pair;
            memcpy(&pair, sr[r] + b, 4);
            ws[r] = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128((int)pair))));
        }
        for (size_t i = 0; i < rows; i++) {
            __m512i xv = _mm512_loadu_si512(xq + i * k + b * TK_Q8_BLOCK);
            __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, xv));
            __m512 xs = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(
                _mm_castpd_ps(_mm_load_sd((const double *)(xd + i * blocks + b)))));
            for (int r = 0; r < 4; r++) {
                __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, wv[r], xv));
                acc[r][i] = _mm512_fmadd_ps(dot, _mm512_mul_ps(ws[r], xs), acc[r][i]);
            }
        }
    }
    if (b < blocks) {   // an odd last block: the upper 32 bytes load as zeros and contribute nothing
        const __mmask64 low = 0xFFFFFFFFull;
        __m512i wv[4];
        __m512 ws[4];
        for (int r = 0; r < 4; r++) {
            wv[r] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(low, wr[r] + b * TK_Q8_BLOCK), offset);
            ws[r] = _mm512_set1_ps(tk_f16_float(sr[r][b]));
        }
        for (size_t i = 0; i < rows; i++) {
            __m512i xv = _mm512_maskz_loadu_epi8(low, xq + i * k + b * TK_Q8_BLOCK);
            __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, xv));
            __m512 xs = _mm512_set1_ps(xd[i * blocks + b]);
            for (int r = 0; r < 4; r++) {
                __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, wv[r], xv));
                acc[r][i] = _mm512_fmadd_ps(dot, _mm512_mul_ps(ws[r], xs), acc[r][i]);
            }
        }
    }
    for (int r = 0; r < 4 && j + r < row_end; r++)
        for (size_t i = 0; i < rows; i++) y[i * ldy + j + r] = _mm512_reduce_add_ps(acc[r][i]);
}

TK_AVX512 static void gemm_q8_avx512(const int8_t *xq, const float *xd, size_t m, const int8_t *wq,
                                     const uint16_t *wd, size_t k, size_t row_begin, size_t row_end, float *y,
                                     size_t ldy) {
    const size_t blocks = k / TK_Q8_BLOCK;
    for (size_t j = row_begin; j < row_end; j += 4) {
        for (size_t i = 0; i < m; i += 4) {
            const int8_t *x = xq + i * k;
            const float *s = xd + i * blocks;
            float *out = y + i * ldy;
            switch (tk_min_size(4, m - i)) {
            case 1: q8_tile(x, s, 1, wq, wd, k, j, row_end, out, ldy); break;
            case 2: q8_tile(x, s, 2, wq, wd, k, j, row_end, out, ldy); break;
            case 3: q8_tile(x, s, 3, wq, wd, k, j, row_end, out, ldy); break;
            default: q8_tile(x, s, 4, wq, wd, k, j, row_end, out, ldy); break;
            }
        }
    }
}
#endif

void tk_gemm_q8(const int8_t *xq, const float *xd, size_t m, const int8_t *wq, const uint16_t *wd, size_t k,
                size_t row_begin, size_t row_end, float *y, size_t ldy) {
    if (row_begin >= row_end || m == 0) return;
#if TK_X86
    switch (tk_inference_kernel()) {
    case TK_KERNEL_AVX512: gemm_q8_avx512(xq, xd, m, wq, wd, k, row_begin, row_end, y, ldy); return;
    case TK_KERNEL_AVX2: tk_gemm_q8_avx2(xq, xd, m, wq, wd, k, row_begin, row_end, y, ldy); return;
    default: break;
    }
#endif
    gemm_q8_scalar(xq, xd, m, wq, wd, k, row_begin, row_end, y, ldy);
}

// MARK: memory probe

#if TK_X86
TK_AVX512 static uint64_t read_memory_avx512(const void *p, size_t bytes) {
    const char *base = (const char *)p;
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 256 <= bytes; i += 256) {
        a = _mm512_xor_si512(a, _mm512_loadu_si512(base + i));
        b = _mm512_xor_si512(b, _mm512_loadu_si512(base + i + 64));
        c = _mm512_xor_si512(c, _mm512_loadu_si512(base + i + 128));
        d = _mm512_xor_si512(d, _mm512_loadu_si512(base + i + 192));
    }
    for (; i + 64 <= bytes; i += 64) a = _mm512_xor_si512(a, _mm512_loadu_si512(base + i));
    a = _mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, d));
    return (uint64_t)_mm512_reduce_add_epi64(a);
}
#endif

uint64_t tk_read_memory(const void *p, size_t bytes) {
#if TK_X86
    switch (tk_inference_kernel()) {
    case TK_KERNEL_AVX512: return read_memory_avx512(p, bytes);
    case TK_KERNEL_AVX2: return tk_read_memory_avx2(p, bytes);
    default: break;
    }
#endif
    const uint64_t *words = (const uint64_t *)p;
    uint64_t a = 0, b = 0;
    for (size_t i = 0; i + 1 < bytes / 8; i += 2) { a ^= words[i]; b ^= words[i + 1]; }
    return a + b;
}
