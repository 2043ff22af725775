// RMSNorm forward (with the residual add fused in front when asked) and backward (with the residual's gradient added
// when asked), vectorized. See include/CTailorKernels.h; the bodies are NormalizationBody.h, compiled once per
// instruction set.
#include "CTailorKernels.h"
#include <math.h>

#define TK_BODY "NormalizationBody.h"
#include "CompileBodies.h"

void tk_rmsnorm_forward(const float *x, const float *addend, const float *w, float eps, size_t c, float *sum,
                        float *out, float *rstd, size_t row_begin, size_t row_end) {
    TK_RUN_BODY(rmsnorm_forward, x, addend, w, eps, c, sum, out, rstd, row_begin, row_end);
}

void tk_rmsnorm_backward(const float *dy, const float *x, const float *w, const float *rstd, const float *addend,
                         size_t c, float *dx, size_t row_begin, size_t row_end) {
    TK_RUN_BODY(rmsnorm_backward, dy, x, w, rstd, addend, c, dx, row_begin, row_end);
}

void tk_rmsnorm_weight_gradient(const float *dy, const float *x, const float *rstd, size_t m, size_t c, float *dw,
                                size_t col_begin, size_t col_end) {
    TK_RUN_BODY(rmsnorm_weight_gradient, dy, x, rstd, m, c, dw, col_begin, col_end);
}
