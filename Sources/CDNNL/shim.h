// oneDNN's C API (Debian's libdnnl-dev): f32 products (dnnl_sgemm) and bf16 matrix products with f32 accumulation.
#include <oneapi/dnnl/dnnl.h>

// Debian's oneDNN runs on OpenMP (libgomp). Tailor splits products over its own workers and runs oneDNN
// single-threaded in each, so that no OpenMP team spins against them.
void omp_set_num_threads(int);
