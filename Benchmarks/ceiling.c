// What this machine allows, measured with the project's own product kernel (Sources/CClipKernels):
//   1. the AVX2 FMA peak: 12 independent 256-bit multiply-add chains, on one core and on every
//      core at once (one process per core, started together);
//   2. clip_gemm_packed on operands that all stay in L2 (96 rows, 64 outputs, 256 inputs): the
//      kernel with its packing, without memory in the way;
//   3. clip_gemm_packed as the encoder calls it (192 rows a call, ViT-B/16 shapes), once with
//      one weight reused (it stays in cache) and once cycling through 8 weights (read from memory,
//      as a layer's weights are in a forward pass).
// Built and run by ceiling.sh. Prints GFLOP/s, best of a few repetitions.
#include "clip_kernels.h"

#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx2,fma"))) static double fma_peak(void) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(1.0f + i * 1e-7f);
    __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-8f);
    long n = 200000000L;
    double t0 = now();
    for (long i = 0; i < n; i++) {
#pragma GCC unroll 12
        for (int j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], b, c);
    }
    double t = now() - t0;
    float sink = 0, lanes[8];
    for (int j = 0; j < 12; j++) { _mm256_storeu_ps(lanes, acc[j]); sink += lanes[0]; }
    if (sink == 12345.0f) puts("");  // keeps the chains alive
    return n * 12 * 16.0 / t / 1e9;
}

// clip_gemm_packed over m rows of an [n, k] weight; `weights` copies cycled (1: stays in cache).
static double product(int m, int n, int k, int weights) {
    float *a = aligned_alloc(64, sizeof(float) * m * k), *c = aligned_alloc(64, sizeof(float) * m * n);
    float *w = aligned_alloc(64, sizeof(float) * n * k);
    for (long i = 0; i < (long)m * k; i++) a[i] = 1e-2f * (i % 7);
    for (long i = 0; i < (long)n * k; i++) w[i] = 1e-2f * (i % 5);
    float *packed[8];
    for (int i = 0; i < weights; i++) {
        packed[i] = aligned_alloc(64, sizeof(float) * clip_packed_weight_count(n, k));
        clip_pack_weight(w, n, k, packed[i]);
    }
    double best = 1e9;
    // About 1 GFLOP a repetition whatever the shape.
    int rounds = (int)(1e9 / (2.0 * m * n * k * weights)) + 1;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < weights; i++) clip_gemm_packed(m, n, k, a, k, packed[i], 0, n, c, n);
        double t = now() - t0;
        if (t < best) best = t;
    }
    for (int i = 0; i < weights; i++) free(packed[i]);
    free(a); free(c); free(w);
    return 2.0 * m * n * k * rounds * weights / best / 1e9;
}

int main(void) {
    if (!clip_kernels_vectorised()) { puts("no AVX2+FMA here: nothing to measure"); return 1; }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("AVX2 FMA peak, one core: %.1f GFLOP/s\n", fma_peak());
    int fds[64][2];
    if (cores > 64) cores = 64;
    for (long i = 0; i < cores; i++) {
        if (pipe(fds[i]) != 0) return 1;
        if (fork() == 0) {
            double g = fma_peak();
            if (write(fds[i][1], &g, sizeof g) != sizeof g) _exit(1);
            _exit(0);
        }
    }
    double all = 0;
    for (long i = 0; i < cores; i++) {
        double g = 0;
        if (read(fds[i][0], &g, sizeof g) == sizeof g) all += g;
        wait(NULL);
    }
    printf("AVX2 FMA peak, %ld cores at once: %.1f GFLOP/s\n", cores, all);
    printf("clip_gemm_packed m=96 n=64 k=256 (all in L2), one core: %.1f GFLOP/s\n", product(96, 64, 256, 1));
    const int shapes[4][2] = {{768, 768}, {2304, 768}, {3072, 768}, {768, 3072}};
    for (int s = 0; s < 4; s++) {
        int n = shapes[s][0], k = shapes[s][1];
        printf("clip_gemm_packed m=192 n=%d k=%d, one core: weight in cache %.1f, weights from memory %.1f GFLOP/s\n",
               n, k, product(192, n, k, 1), product(192, n, k, 8));
    }
    return 0;
}
