// Kernels of the CLIP forward pass over row-major float matrices: element-wise (LayerNorm, bias,
// activations, softmax), tree attention, and products with packed Linear weights
// (packed_gemm.c). Each call handles the rows it is given, so callers split rows across their
// own threads. AVX2+FMA code is chosen at run time when the CPU has it; otherwise portable C.
// Both follow the reference formulas; the vectorised exp is a Cephes-style polynomial within
// 2 ulp of expf.
#ifndef CLIP_KERNELS_H
#define CLIP_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// 1 when the AVX2+FMA paths are used on this CPU.
int clip_kernels_vectorised(void);

/// y[r] = LayerNorm(x[r]) · gamma + beta for `rows` rows of `width` (biased variance, as torch).
/// Row r starts at x + r·in_stride and y + r·out_stride; y may equal x.
void clip_layer_norm(const float *x, ptrdiff_t rows, ptrdiff_t width, ptrdiff_t in_stride,
                     const float *gamma, const float *beta, float eps, float *y, ptrdiff_t out_stride);

/// A residual's bias then the next LayerNorm: x[r] += bias (in place), y[r] = LayerNorm(x[r]).
void clip_add_bias_layer_norm(float *x, ptrdiff_t rows, ptrdiff_t width, const float *bias,
                              const float *gamma, const float *beta, float eps, float *y);

/// y[r] += bias for each of `rows` rows of `width` (row r at y + r·ld).
void clip_add_bias(float *y, ptrdiff_t rows, ptrdiff_t width, ptrdiff_t ld, const float *bias);

/// y[r] = bias (zeros when bias is NULL) for each of `rows` rows of `width` (row r at y + r·ld):
/// the start of a product that adds into its output.
void clip_fill_rows(float *y, ptrdiff_t rows, ptrdiff_t width, ptrdiff_t ld, const float *bias);

/// quick_gelu in place: v · sigmoid(1.702 v) = v / (1 + exp(−1.702 v)).
void clip_quick_gelu(float *x, ptrdiff_t count);

/// gelu (erf form) in place: 0.5 v (1 + erf(v / √2)).
void clip_gelu(float *x, ptrdiff_t count);

/// PyTorch's gelu(approximate="tanh") in place (SigLIP): AVX2 through the sigmoid form when the
/// CPU has it, tanhf otherwise.
void clip_gelu_tanh(float *x, ptrdiff_t count);

/// Softmax of `rows` rows of `width` (row r at s + r·ld) in place, max subtracted. With `causal`,
/// row r keeps columns 0...(first_row + r) and the rest become 0.
void clip_softmax_rows(float *s, ptrdiff_t rows, ptrdiff_t width, ptrdiff_t ld, int causal, ptrdiff_t first_row);

/// Causal self-attention over a prefix tree of token rows: a row attends to itself and its
/// ancestors (parent[r] < r; −1 at a root), which are exactly the tokens before it in its prompt.
/// For `count` query rows — rows[i], or first_row + i when `rows` is NULL; their queries at
/// q + i·q_ld — and each of `heads` heads of `head_dim`: softmax(scale · q·kᵀ) · v over those rows
/// of k and v (row r at k + r·ld, v + r·ld), written to out + i·out_ld. `path` and `scores` hold
/// at least `depth` values (the deepest row's position + 1).
void clip_tree_attention(const float *q, ptrdiff_t q_ld, const int32_t *rows, ptrdiff_t first_row, ptrdiff_t count,
                         const float *k, const float *v, ptrdiff_t ld, const int32_t *parent,
                         ptrdiff_t heads, ptrdiff_t head_dim, float scale, float *out, ptrdiff_t out_ld,
                         int32_t *path, float *scores, ptrdiff_t depth);

/// The column panel width of a packed weight (output columns per panel).
#define CLIP_PACKED_PANEL 16

/// Floats a packed copy of an [n, k] weight takes (n rounded up to whole panels).
size_t clip_packed_weight_count(ptrdiff_t n, ptrdiff_t k);

/// Packs a Linear weight w [n, k] (row-major: n outputs of k inputs) into panels of
/// CLIP_PACKED_PANEL outputs, [⌈n/16⌉][k][16], zero-padded; `packed` holds
/// clip_packed_weight_count(n, k) floats.
void clip_pack_weight(const float *w, ptrdiff_t n, ptrdiff_t k, float *packed);

/// c[r, j] += Σᵢ a[r, i] · w[j, i] for rows 0..<m (row r at a + r·lda, c + r·ldc) and output
/// columns col_begin..<col_end (col_begin a multiple of CLIP_PACKED_PANEL), w packed by
/// clip_pack_weight. Single-threaded: callers split rows or panels across their threads.
///
/// Each output is computed by the same operations whatever m, the row's position, the column
/// range or the thread — blocks of 256 inputs from the first, each a multiply-add chain in input
/// order from 0, added to c in turn — so a row's result does not depend on what else the call
/// holds (an image's embedding does not depend on its batch).
void clip_gemm_packed(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                      const float *packed, ptrdiff_t col_begin, ptrdiff_t col_end, float *c, ptrdiff_t ldc);

/// clip_gemm_packed on the portable path (`vectorised` 0) or, where the CPU has it, the AVX2 path
/// (1): lets tests check the path this machine would not otherwise take.
void clip_gemm_packed_path(int vectorised, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                           const float *packed, ptrdiff_t col_begin, ptrdiff_t col_end, float *c, ptrdiff_t ldc);

/// Atomically adds `value` to *counter and returns the previous value (work claiming).
ptrdiff_t clip_fetch_add(ptrdiff_t *counter, ptrdiff_t value);

#endif
