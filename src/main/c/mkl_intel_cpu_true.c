/*
 * libtorch's CPU builds link oneMKL statically, and oneMKL asks mkl_serv_intel_cpu_true() whether
 * it runs on an Intel CPU before choosing its matrix-product kernels. On AMD CPUs the answer "no"
 * sends some shapes to generic kernels: on an AMD EPYC (AVX2) this model's gate/up product ran at
 * 0.6-0.8x OpenBLAS's speed. libtorch_cpu.so exports the function, so a library preloaded ahead of
 * it (LD_PRELOAD) answers instead, and oneMKL picks its kernels from the CPU's instruction sets
 * (cpuid) alone. PyTorch's maintainers give the same advice for AMD CPUs:
 * https://github.com/pytorch/builder/pull/1245
 * Built and preloaded by submit.sh on AMD x86-64 CPUs (scripts/build-mkl-shim.sh).
 */
int mkl_serv_intel_cpu_true(void) {
    return 1;
}
