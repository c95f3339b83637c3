// Products with a Linear weight packed once at load (see clip_kernels.h for the contract).
//
// Why not OpenBLAS for these: its sgemm re-packs the weight on every call, and the bits it
// returns for a row depend on the call's row count and the row's position (different edge
// kernels), so an image's embedding would change with the batch it shares. Here the weight is
// packed once, and every output element is computed by the same sequence of operations whatever
// the call: for each block of KC inputs (from input 0), a fused multiply-add chain from 0 in
// input order, then added to c. Rows beyond a 6-row micro-panel are filled by repeating a row
// (their results are discarded), and columns beyond a 16-column panel meet zero weights.
//
// Blocking (BLIS-style): for each block of KC inputs and MC rows, the rows' block of A is
// packed into 6-row micro-panels ([kc][6], contiguous for the broadcasts; it stays in L2), then
// every 16-column weight panel ([kc][16], 16 KB at KC = 256, in L1 while the micro-panels pass)
// meets every micro-panel in a 6×16 register tile of 12 accumulators.
#include "clip_kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CLIP_GEMM_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#endif

enum { MR = 6, NR = CLIP_PACKED_PANEL, KC = 256, MC = 96 };

size_t clip_packed_weight_count(ptrdiff_t n, ptrdiff_t k) {
    return (size_t)((n + NR - 1) / NR) * NR * (size_t)k;
}

void clip_pack_weight(const float *w, ptrdiff_t n, ptrdiff_t k, float *packed) {
    ptrdiff_t panels = (n + NR - 1) / NR;
    for (ptrdiff_t p = 0; p < panels; p++) {
        float *dst = packed + p * k * NR;
        for (ptrdiff_t j = 0; j < NR; j++) {
            ptrdiff_t col = p * NR + j;
            if (col < n) {
                const float *src = w + col * k;
                for (ptrdiff_t i = 0; i < k; i++) dst[i * NR + j] = src[i];
            } else {
                for (ptrdiff_t i = 0; i < k; i++) dst[i * NR + j] = 0;
            }
        }
    }
}

// The calling thread's A block: MC rows × KC inputs as micro-panels [MC/MR][kc][MR], 96 KB,
// allocated on the thread's first product and freed when it exits. Not on the stack (worker
// threads' stacks are small) and not allocated per call (freeing 96 KB lets malloc give the pages
// back, and every call would then fault them in again).
static pthread_key_t a_block_key;
static pthread_once_t a_block_once = PTHREAD_ONCE_INIT;
static void make_a_block_key(void) { pthread_key_create(&a_block_key, free); }

static float *thread_a_block(void) {
    pthread_once(&a_block_once, make_a_block_key);
    float *block = pthread_getspecific(a_block_key);
    if (!block) {
        block = aligned_alloc(64, sizeof(float) * MC * KC);
        if (!block || pthread_setspecific(a_block_key, block) != 0) abort();
    }
    return block;
}

// Packs rows [0, mc) of a (leading dimension lda), inputs [0, kc), into micro-panels; a panel's
// missing rows repeat its last row.
static void pack_a(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t kc, float *out) {
    for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
        float *dst = out + ir * kc;
        for (ptrdiff_t r = 0; r < MR; r++) {
            ptrdiff_t row = ir + r < mc ? ir + r : mc - 1;
            const float *src = a + row * lda;
            for (ptrdiff_t i = 0; i < kc; i++) dst[i * MR + r] = src[i];
        }
    }
}

// MARK: portable

static void tile_c(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t cols) {
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (ptrdiff_t i = 0; i < kc; i++, a += MR, b += NR)
        for (ptrdiff_t r = 0; r < MR; r++)
            for (ptrdiff_t j = 0; j < NR; j++) acc[r][j] += a[r] * b[j];
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t j = 0; j < cols; j++) c[r * ldc + j] += acc[r][j];
}

// MARK: AVX2 + FMA

#ifdef CLIP_GEMM_X86
AVX2 static void tile_avx2(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc,
                           ptrdiff_t rows, ptrdiff_t cols) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (ptrdiff_t i = 0; i < kc; i++, a += MR, b += NR) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), x;
        x = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    __m256 acc[2 * MR] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (cols == NR) {
        for (ptrdiff_t r = 0; r < rows; r++) {
            float *cr = c + r * ldc;
            _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), acc[2 * r]));
            _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[2 * r + 1]));
        }
    } else {
        float tile[NR] __attribute__((aligned(32)));
        for (ptrdiff_t r = 0; r < rows; r++) {
            _mm256_store_ps(tile, acc[2 * r]);
            _mm256_store_ps(tile + 8, acc[2 * r + 1]);
            for (ptrdiff_t j = 0; j < cols; j++) c[r * ldc + j] += tile[j];
        }
    }
}
#endif

void clip_gemm_packed_path(int vectorised, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                           const float *packed, ptrdiff_t col_begin, ptrdiff_t col_end, float *c, ptrdiff_t ldc) {
    if (m <= 0 || k <= 0 || col_end > n) return;
    vectorised = vectorised && clip_kernels_vectorised();
    ptrdiff_t first_panel = col_begin / NR, end_panel = (col_end + NR - 1) / NR;
    if (first_panel * NR != col_begin || first_panel >= end_panel) return;
    float *a_block = thread_a_block();
    for (ptrdiff_t pc = 0; pc < k; pc += KC) {
        ptrdiff_t kc = k - pc < KC ? k - pc : KC;
        for (ptrdiff_t ic = 0; ic < m; ic += MC) {
            ptrdiff_t mc = m - ic < MC ? m - ic : MC;
            pack_a(a + ic * lda + pc, lda, mc, kc, a_block);
            for (ptrdiff_t p = first_panel; p < end_panel; p++) {
                const float *b = packed + p * k * NR + pc * NR;
                ptrdiff_t cols = col_end - p * NR < NR ? col_end - p * NR : NR;
                for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
                    ptrdiff_t rows = mc - ir < MR ? mc - ir : MR;
                    float *tile = c + (ic + ir) * ldc + p * NR;
#ifdef CLIP_GEMM_X86
                    if (vectorised) { tile_avx2(kc, a_block + ir * kc, b, tile, ldc, rows, cols); continue; }
#endif
                    (void)vectorised;
                    tile_c(kc, a_block + ir * kc, b, tile, ldc, rows, cols);
                }
            }
        }
    }
}

void clip_gemm_packed(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                      const float *packed, ptrdiff_t col_begin, ptrdiff_t col_end, float *c, ptrdiff_t ldc) {
    clip_gemm_packed_path(1, m, n, k, a, lda, packed, col_begin, col_end, c, ldc);
}
