// What the inference kernel files share (not public): bf16/f16 bit conversions and the AVX2 bodies' entry points,
// which InferenceKernels.c dispatches to. Legend as in include/CTailorKernels.h.
#ifndef TK_INFERENCE_KERNELS_SHARED_H
#define TK_INFERENCE_KERNELS_SHARED_H

#include "CTailorKernels.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define TK_X86 1
#include <immintrin.h>
#else
#define TK_X86 0
#endif

static inline size_t tk_min_size(size_t a, size_t b) { return a < b ? a : b; }

/// The four weight rows (values and f16 scales) of the q8_0 tile that starts at row `j`: rows past `row_end` repeat
/// the last one (their results are not stored).
static inline void tk_q8_tile_rows(const int8_t *wq, const uint16_t *wd, size_t k, size_t j, size_t row_end,
                                   const int8_t *wr[4], const uint16_t *sr[4]) {
    const size_t blocks = k / TK_Q8_BLOCK;
    for (int r = 0; r < 4; r++) {
        size_t row = tk_min_size(j + r, row_end - 1);
        wr[r] = wq + row * k;
        sr[r] = wd + row * blocks;
    }
}

/// Prefetches `bytes` (a multiple of 64) at byte `offset` of the weight that starts at `base`. The streaming kernels
/// read a tile of four weight rows at a time and, at each step, prefetch as many bytes of the next tile as they have
/// just read of the current one (offset: the next tile's first byte plus what they have read so far), so the next
/// tile arrives in one sequential sweep, a tile ahead: 1.3× (bf16) to 1.7× (int8) the weight stream of prefetching
/// the four rows separately on Zen 3 (one core, SmolLM2's shapes, weights not in cache). Past the weight's end the
/// addresses are only prefetched, never read.
static inline void tk_prefetch_weight(const void *base, size_t offset, size_t bytes) {
#if TK_X86
    uintptr_t at = (uintptr_t)base + offset;
    for (size_t line = 0; line < bytes; line += 64) _mm_prefetch((const char *)(at + line), _MM_HINT_T0);
#else
    (void)base; (void)offset; (void)bytes;
#endif
}

static inline float tk_bf16_float(uint16_t bits) {
    uint32_t wide = (uint32_t)bits << 16;
    float value;
    memcpy(&value, &wide, 4);
    return value;
}

static inline float tk_f16_float(uint16_t bits) {
    _Float16 half;
    memcpy(&half, &bits, 2);
    return (float)half;
}

#if TK_X86
/// The AVX2 + FMA + F16C bodies (InferenceKernelsAVX2.c), same contracts as the public functions.
void tk_gemm_bf16_avx2(const uint16_t *xb, size_t m, const uint16_t *w, size_t k, size_t row_begin, size_t row_end,
                       float *y, size_t ldy);
void tk_gemm_q8_avx2(const int8_t *xq, const float *xd, size_t m, const int8_t *wq, const uint16_t *wd, size_t k,
                     size_t row_begin, size_t row_end, float *y, size_t ldy);
uint64_t tk_read_memory_avx2(const void *p, size_t bytes);
/// `blocks` consecutive blocks of `tk_quantize_q8`, bit for bit.
void tk_quantize_q8_blocks_avx2(const float *x, size_t blocks, int8_t *q, float *scales);
/// The first count − count mod 8 values of `tk_round_f16` (F16C's conversion, the same rounding).
void tk_round_f16_avx2(const float *x, uint16_t *out, size_t count);
#endif

#endif
