// Vector kernels for inference (matrix-vector products on bf16 and q8_0-style int8 weights, a memory-read probe),
// blocked attention, and the worker pool that Swift's kernels split their loops over.
// Each has an AVX-512 body, an AVX2 body and a portable scalar body with the same arithmetic, the best one the CPU
// has chosen at run time (__builtin_cpu_supports); Swift compiles for baseline x86-64, so the instruction-set specific code lives here.
// Legend: M input rows, K input features, N output features (weight rows), weights stored [N, K] row-major.
#ifndef CTAILORKERNELS_H
#define CTAILORKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Values per int8 block (one scale each), as GGML's q8_0.
#define TK_Q8_BLOCK 32

/// The kernels' bodies, slowest first.
enum {
    /// Portable C.
    TK_KERNEL_SCALAR = 0,
    /// AVX2 + FMA + F16C (x86-64 since Haswell and Zen 1).
    TK_KERNEL_AVX2 = 1,
    /// AVX-512 F, BW, VL, BF16 and VNNI (Cooper Lake, Sapphire Rapids, Zen 4 and later).
    TK_KERNEL_AVX512 = 2,
};
/// The body the kernels run: the best one this CPU has, at most the cap of `tk_cap_inference_kernel`.
int tk_inference_kernel(void);
/// Caps the bodies at `level` (a TK_KERNEL_ value; tests compare each body the CPU has with the scalar one);
/// TK_KERNEL_AVX512 lifts the cap.
void tk_cap_inference_kernel(int level);

/// f32 → bf16 bits, round to nearest even (NaN stays a quiet NaN), `count` values.
void tk_round_bf16(const float *x, uint16_t *out, size_t count);

/// f32 → f16 bits, round to nearest even (past ±65,504: infinite; NaN stays NaN), `count` values.
void tk_round_f16(const float *x, uint16_t *out, size_t count);
/// bf16 bits → f32 (exact), `count` values.
void tk_widen_bf16(const uint16_t *x, float *out, size_t count);

/// `y[i·ldy + j] = Σ_k xb[i·k + k'] · w[j·k + k']` for rows i < m and weight rows j in [row_begin, row_end),
/// products of bf16 values accumulated in f32.
void tk_gemm_bf16(const uint16_t *xb, size_t m, const uint16_t *w, size_t k, size_t row_begin, size_t row_end,
                  float *y, size_t ldy);

/// Quantizes `m` rows of `k` values (k a multiple of 32) into blocks of 32 int8 with one f32 scale each
/// (scale = max|x|/127, q = round(x/scale)); `scales` holds m·k/32 values.
void tk_quantize_q8(const float *x, size_t m, size_t k, int8_t *q, float *scales);

/// q8_0 weights `wq[N, K]` with f16 scales `wd[N, K/32]` (bits); the same block rule as `tk_quantize_q8`.
void tk_quantize_q8_weights(const float *x, size_t n, size_t k, int8_t *q, uint16_t *scales);

/// `y[i·ldy + j] = Σ_blocks xd·wd·Σ xq·wq` for rows i < m, weight rows j in [row_begin, row_end); k a multiple of 32.
/// `xq`/`xd` come from `tk_quantize_q8`, `wq`/`wd` from `tk_quantize_q8_weights`.
void tk_gemm_q8(const int8_t *xq, const float *xd, size_t m, const int8_t *wq, const uint16_t *wd, size_t k,
                size_t row_begin, size_t row_end, float *y, size_t ldy);

/// Decodes `rows` rows of a q8_0 weight (`q` their `rows·K` values, `scales` their `rows·K/32` f16 scales) to f32:
/// each value times its block's scale, as GGML's dequantize_row_q8_0.
void tk_dequantize_q8_rows(const int8_t *q, const uint16_t *scales, size_t rows, size_t k, float *out);
/// Reads `bytes` (a multiple of 64) from `p` with wide loads and returns a value depending on every byte, so that
/// the read cannot be optimised away (the memory-bandwidth probe).
uint64_t tk_read_memory(const void *p, size_t bytes);

/// The cap `tk_cap_inference_kernel` set (TK_KERNEL_AVX512: none); the attention kernels obey it too.
int tk_inference_kernel_cap(void);

/// One attention call (Swift's `AttentionShape`). q `[B·Tq, H·D]`; k, v `[B·key_capacity, G·D]` with the first
/// `key_length` rows of each batch entry filled; query i sits at key position `query_offset + i`.
typedef struct {
    int64_t batch, query_length, key_length, key_capacity, heads, kv_heads, head_dim, query_offset;
    /// Keys at least this many positions back are hidden; 0 for none.
    int64_t sliding_window;
    /// 1 when k and v hold f16 values (an f16 KV cache; forward only), 0 when they hold f32.
    int64_t kv_f16;
    /// The factor on q·k (1/sqrt(D), or Gemma's query_pre_attn_scalar^-0.5).
    float scale;
    /// Gemma 2's attention logit soft-cap: scaled scores s become cap·tanh(s/cap); 0 for none.
    float soft_cap;
    /// `[batch · key_capacity]` sample ids (-1 padding), or NULL; see Swift's `KeySegments`.
    const int32_t *segments;
} tk_attention_shape;

/// The attention bodies this CPU runs, as a TK_KERNEL_ value (2 AVX-512, 1 AVX2 + FMA, 0 portable), at most the cap.
int tk_attention_instruction_set(void);
/// Work items of `tk_attention_forward`: (batch, kv head, block of query positions).
int64_t tk_attention_forward_items(const tk_attention_shape *s);
/// Blocked causal attention with an online softmax for items [item_begin, item_end): writes their rows of
/// `out [B·Tq, H·D]` and, when `lse` is not NULL, of `lse [B·Tq, H]` (log Σ exp of the scores; -inf for a row that
/// sees no key, whose output is 0). Returns 0, or -1 when scratch memory cannot be allocated.
int tk_attention_forward(const tk_attention_shape *s, const float *q, const void *k, const void *v, float *out,
                         float *lse, int64_t item_begin, int64_t item_end);
/// Work items of `tk_attention_decode`: (batch, chunk of 64 keys, kv head).
int64_t tk_attention_decode_items(const tk_attention_shape *s);
/// Attention of a few query positions (decoding) over many keys, split over the keys (flash-decoding) so that every
/// core has work with one query: for items [item_begin, item_end), each chunk's partial softmax (its maximum, its
/// Σ exp and its unnormalised output) into `partial`, `items × (H/G · Tq) × (D + 2)` floats; K and V are read
/// where they lie. Returns 0, or -1 when scratch memory cannot be allocated.
int tk_attention_decode(const tk_attention_shape *s, const float *q, const void *k, const void *v, float *partial,
                        int64_t item_begin, int64_t item_end);
/// Merges the chunks' partial results of every item into `out [B·Tq, H·D]` and, when not NULL, `lse [B·Tq, H]`,
/// as `tk_attention_forward` writes them.
void tk_attention_decode_combine(const tk_attention_shape *s, const float *partial, float *out, float *lse);
/// Backward for the (batch, kv head) pairs [pair_begin, pair_end) from the forward's `out` and `lse`: writes their
/// rows of `dq`, adds into their rows of `dk` and `dv` (zeroed by the caller). Returns 0, or -1 without memory.
int tk_attention_backward(const tk_attention_shape *s, const float *q, const float *k, const float *v, const float *out,
                          const float *dout, const float *lse, float *dq, float *dk, float *dv,
                          int64_t pair_begin, int64_t pair_end);

/// SwiGLU on values [begin, end): `out = silu(gate)·up`, silu(g) = g·σ(g).
void tk_swiglu_forward(const float *gate, const float *up, float *out, size_t begin, size_t end);
/// Its backward on values [begin, end): `dup = dout·silu(gate)`, `dgate = dout·up·σ(g)·(1 + g·(1 − σ(g)))`.
void tk_swiglu_backward(const float *dout, const float *gate, const float *up, float *dgate, float *dup, size_t begin,
                        size_t end);

/// GeGLU on values [begin, end): `out = gelu_tanh(gate)·up` (transformers' gelu_pytorch_tanh).
void tk_geglu_forward(const float *gate, const float *up, float *out, size_t begin, size_t end);
/// Its backward on values [begin, end): `dup = dout·gelu_tanh(gate)`, `dgate = dout·up·gelu_tanh′(gate)`.
void tk_geglu_backward(const float *dout, const float *gate, const float *up, float *dgate, float *dup, size_t begin,
                       size_t end);

/// Rotate-half RoPE of rows [row_begin, row_end) of `x` (rows of `heads` heads of 2·half values; `cosines`, `sines`
/// rows of `half` values): out[i] = x[i]·cos − x[i+half]·sin·sign, out[i+half] = x[i+half]·cos + x[i]·sin·sign;
/// `sign` −1 rotates back (the backward). `out` may be `x` (in place).
void tk_rope(const float *x, const float *cosines, const float *sines, size_t heads, size_t half, float sign, float *out,
             size_t row_begin, size_t row_end);

/// RMSNorm of rows [row_begin, row_end) of `x` (rows of c values): `out = w·(s·r)`, `rstd = r = 1/√(mean(s²) + eps)`,
/// where s = x, or with a non-null `addend` s = x + addend (the residual add), which is then written to `sum`.
void tk_rmsnorm_forward(const float *x, const float *addend, const float *w, float eps, size_t c, float *sum,
                        float *out, float *rstd, size_t row_begin, size_t row_end);
/// Its input gradient on rows [row_begin, row_end): `dx = r·(w·dy − x·r·mean(w·dy·x·r))`, plus `addend` when non-null
/// (the residual's gradient).
void tk_rmsnorm_backward(const float *dy, const float *x, const float *w, const float *rstd, const float *addend,
                         size_t c, float *dx, size_t row_begin, size_t row_end);
/// Its weight gradient on columns [col_begin, col_end): `dw[j] += Σ_i dy[i, j]·x[i, j]·rstd[i]` over m rows.
void tk_rmsnorm_weight_gradient(const float *dy, const float *x, const float *rstd, size_t m, size_t c, float *dw,
                                size_t col_begin, size_t col_end);

/// Softmax cross-entropy of rows [row_begin, row_end) of `logits` (rows of v values), forward and backward in one
/// pass: `losses[r]` = log Σ exp − logits[target] (0 for target -100), the rows overwritten with their gradient
/// (softmax − onehot)·dloss[r] (zeros for target -100). Targets other than -100 must be in [0, v).
void tk_cross_entropy(float *logits, size_t v, const int32_t *targets, const float *dloss, float *losses,
                      size_t row_begin, size_t row_end);

/// The per-step f32 scalars of AdamW (TailorOptim's `AdamWScalars`).
typedef struct {
    int has_decay;                 // 0: the parameter's group has no weight decay (no multiply)
    float decay;                   // 1 - lr·wd
    float lerp_weight;             // 1 - β1
    float beta2, one_minus_beta2;
    float bias_correction2_sqrt;   // sqrt(1 - β2^t)
    float epsilon;
    float negative_step_size;      // -lr / (1 - β1^t)
} tk_adamw_scalars;

/// AdamW on elements [begin, end) of one parameter `p` with its gradient `g` and moments `m`, `v`, in torch's
/// single-tensor f32 operation order (TailorOptim's `adamwElement`), bit for bit.
void tk_adamw(float *p, const float *g, float *m, float *v, size_t begin, size_t end, const tk_adamw_scalars *s);

/// One chunk of a job on the worker pool: `index` is 0 ... chunks - 1.
typedef void (*tk_pool_task)(void *context, size_t index);
/// Runs `task(context, i)` for every i in 0 ..< chunks, chunk 0 on the calling thread and the others on the pool's
/// worker threads (started at the first call: chunks - 1 of them; they spin briefly between jobs, then sleep), and
/// returns 1 when all have finished. Returns 0 without running anything when the pool cannot take the job: on a
/// platform without it, with fewer than 2 chunks or another count than the first call's, from inside a pool job,
/// while another thread's job runs, or when threads cannot be started. The caller then runs the chunks itself.
int tk_pool_run(size_t chunks, tk_pool_task task, void *context);

#ifdef __cplusplus
}
#endif

#endif
