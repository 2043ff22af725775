// Which body the memory-bound vector kernels (Activations.c, AdamW.c; TK_RUN_BODY in CompileBodies.h) run: AVX2 +
// FMA (+ F16C, the AVX2 bodies' target) where the CPU has them and the cap (`tk_cap_inference_kernel`) allows it, else
// the portable one. AVX-512 would add nothing to a memory-bound pass.
#ifndef TK_VARIANT_CHOICE_H
#define TK_VARIANT_CHOICE_H

/// 1 when the AVX2 + FMA + F16C bodies should run (defined in Activations.c).
int tk_use_avx2_fma(void);

#endif
