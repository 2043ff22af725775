/* Makes MKL (inside PyTorch) take its AVX-512 code paths on AMD CPUs: the "tuned PyTorch" peer of the benchmarks.
   Built by tools/bench/tuned-torch-env.sh; never linked into Tailor. */
int mkl_serv_intel_cpu_true(void) { return 1; }
