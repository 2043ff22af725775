// Compiles a kernel body file once per instruction set. Before including this file, define TK_BODY as the body's
// quoted file name, and TK_BODY_AVX512 as well if the body has an AVX-512 variant. It compiles:
//   - the portable body (FN(name) = name##_portable, TK_W 4, no target);
//   - on x86-64 with clang or GCC, the AVX2 + FMA (+ F16C) body (name##_avx2, TK_W 8) and, with TK_BODY_AVX512, the AVX-512
//     one (name##_avx512, TK_W 16).
// TK_X86_BODIES is 1 when the x86 bodies exist. For the memory-bound kernels, TK_RUN_BODY(name, ...) calls the AVX2
// body where `tk_use_avx2_fma` allows it and the portable one otherwise. Include it once per .c file.
#include "VariantChoice.h"

#define FN(name) name##_portable
#define TK_W 4
#define TK_TARGET
#include TK_BODY
#undef FN
#undef TK_W
#undef TK_TARGET

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define TK_X86_BODIES 1
#define FN(name) name##_avx2
#define TK_W 8
#define TK_TARGET __attribute__((target("avx2,fma,f16c")))
#include TK_BODY
#undef FN
#undef TK_W
#undef TK_TARGET
#ifdef TK_BODY_AVX512
#define FN(name) name##_avx512
#define TK_W 16
#define TK_TARGET __attribute__((target("avx512f,fma")))
#include TK_BODY
#undef FN
#undef TK_W
#undef TK_TARGET
#endif
#define TK_RUN_BODY(name, ...) (tk_use_avx2_fma() ? name##_avx2(__VA_ARGS__) : name##_portable(__VA_ARGS__))
#else
#define TK_X86_BODIES 0
#define TK_RUN_BODY(name, ...) name##_portable(__VA_ARGS__)
#endif
