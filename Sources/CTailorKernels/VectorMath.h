// Vector types and functions that the kernel bodies written with clang/GCC vector extensions share (the attention
// and activation bodies). Included inside a body, once per instruction-set variant, with TK_W (floats per vector),
// FN(name) (the name with the variant's suffix) and TK_TARGET (a target attribute or nothing) defined; the body
// #undefs VF, VI and VFU at its end.

typedef float FN(vf) __attribute__((vector_size(TK_W * 4)));
typedef int32_t FN(vi) __attribute__((vector_size(TK_W * 4)));
typedef float FN(vfu) __attribute__((vector_size(TK_W * 4), aligned(4), may_alias));
#define VF FN(vf)
#define VI FN(vi)
#define VFU FN(vfu)

TK_TARGET static inline VF FN(load)(const float *p) { return *(const VFU *)p; }
TK_TARGET static inline void FN(store)(float *p, VF x) { *(VFU *)p = x; }
TK_TARGET static inline VF FN(splat)(float x) { VF v; for (int i = 0; i < TK_W; i++) v[i] = x; return v; }
TK_TARGET static inline VF FN(select)(VI mask, VF a, VF b) { return (VF)(((VI)a & mask) | ((VI)b & ~mask)); }

/// e^x with the degree-6 polynomial of `fastExp` (CrossEntropy.swift), as fastExp: inputs below -87 clamped there
/// (e^-87 ≈ 1.6e-38), NaN kept.
TK_TARGET static inline VF FN(exp_clamped)(VF x) {
    VF c = FN(select)(x < -87.0f, FN(splat)(-87.0f), x);
    VF shifted = c * 1.44269504f + 12582912.0f;   // adding 1.5·2²³ rounds to an integer held in the low bits
    VF n = shifted - 12582912.0f;
    VF r = (c - n * 0.693145751953125f) - n * 1.4286068e-6f;
    VF p = FN(splat)(1.0f / 720);
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    VI two = (((VI)shifted - 0x4B400000) + 127) << 23;
    return p * (VF)two;
}

/// e^x as `exp_clamped`, but 0 below -87, for -inf and for NaN (attention's masked scores).
TK_TARGET static inline VF FN(exp)(VF x) {
    VI keep = x >= -87.0f;
    return (VF)((VI)FN(exp_clamped)(x) & keep);
}
