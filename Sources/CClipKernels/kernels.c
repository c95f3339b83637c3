#include "clip_kernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CLIP_X86 1
#include <immintrin.h>
#endif

// MARK: portable

static void layer_norm_row_c(const float *x, ptrdiff_t n, const float *g, const float *b, float eps, float *y) {
    float sum = 0;
    for (ptrdiff_t j = 0; j < n; j++) sum += x[j];
    float mean = sum / (float)n;
    float sq = 0;
    for (ptrdiff_t j = 0; j < n; j++) { float d = x[j] - mean; sq += d * d; }
    float inv = 1.0f / sqrtf(sq / (float)n + eps);
    for (ptrdiff_t j = 0; j < n; j++) y[j] = (x[j] - mean) * inv * g[j] + b[j];
}

static void softmax_row_c(float *row, ptrdiff_t valid, ptrdiff_t width) {
    float m = -INFINITY;
    for (ptrdiff_t j = 0; j < valid; j++) if (row[j] > m) m = row[j];
    float sum = 0;
    for (ptrdiff_t j = 0; j < valid; j++) { float e = expf(row[j] - m); row[j] = e; sum += e; }
    float inv = 1.0f / sum;
    for (ptrdiff_t j = 0; j < valid; j++) row[j] *= inv;
    for (ptrdiff_t j = valid; j < width; j++) row[j] = 0;
}

// PyTorch's gelu(approximate="tanh"): 0.5·v·(1 + tanh(u)), u = β·(v + κ·v³), β = √(2/π).
static const float gelu_tanh_beta = 0.79788456080286535588f, gelu_tanh_kappa = 0.044715f;

static void gelu_tanh_c(float *x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i], u = gelu_tanh_beta * (v + gelu_tanh_kappa * v * v * v);
        x[i] = 0.5f * v * (1.0f + tanhf(u));
    }
}

static void quick_gelu_c(float *x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) { float v = x[i]; x[i] = v / (1.0f + expf(-1.702f * v)); }
}

// MARK: AVX2 + FMA

#ifdef CLIP_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// exp(x), Cephes' expf: x = n ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r, times 2^n.
AVX2 static inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(x, _mm256_set1_ps(88.3762626647949f));
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3365478515625f));
    __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
    fx = _mm256_floor_ps(fx);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(5.0000001201e-1f));
    __m256 xx = _mm256_mul_ps(x, x);
    p = _mm256_fmadd_ps(p, xx, _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i n = _mm256_cvtps_epi32(fx);
    n = _mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(n));
}

AVX2 static void layer_norm_row_avx2(const float *x, ptrdiff_t n, const float *g, const float *b, float eps, float *y) {
    ptrdiff_t j = 0;
    __m256 acc = _mm256_setzero_ps();
    for (; j + 8 <= n; j += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + j));
    float sum = hsum8(acc);
    for (; j < n; j++) sum += x[j];
    float mean = sum / (float)n;
    __m256 vm = _mm256_set1_ps(mean);
    acc = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + j), vm);
        acc = _mm256_fmadd_ps(d, d, acc);
    }
    float sq = hsum8(acc);
    for (; j < n; j++) { float d = x[j] - mean; sq += d * d; }
    float inv = 1.0f / sqrtf(sq / (float)n + eps);
    __m256 vi = _mm256_set1_ps(inv);
    for (j = 0; j + 8 <= n; j += 8) {
        __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm), vi);
        _mm256_storeu_ps(y + j, _mm256_fmadd_ps(d, _mm256_loadu_ps(g + j), _mm256_loadu_ps(b + j)));
    }
    for (; j < n; j++) y[j] = (x[j] - mean) * inv * g[j] + b[j];
}

AVX2 static void add_bias_row_avx2(float *y, ptrdiff_t n, const float *b) {
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_add_ps(_mm256_loadu_ps(y + j), _mm256_loadu_ps(b + j)));
    for (; j < n; j++) y[j] += b[j];
}

AVX2 static void softmax_row_avx2(float *row, ptrdiff_t valid, ptrdiff_t width) {
    ptrdiff_t j = 0;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; j + 8 <= valid; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(row + j));
    float m = hmax8(vmax);
    for (; j < valid; j++) if (row[j] > m) m = row[j];
    __m256 vm = _mm256_set1_ps(m), acc = _mm256_setzero_ps();
    for (j = 0; j + 8 <= valid; j += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + j), vm));
        _mm256_storeu_ps(row + j, e);
        acc = _mm256_add_ps(acc, e);
    }
    float sum = hsum8(acc);
    if (j < valid) {
        float tail[8] = {0};
        ptrdiff_t r = valid - j;
        for (ptrdiff_t i = 0; i < 8; i++) tail[i] = i < r ? row[j + i] - m : -INFINITY;
        float e[8];
        _mm256_storeu_ps(e, exp8(_mm256_loadu_ps(tail)));
        for (ptrdiff_t i = 0; i < r; i++) { row[j + i] = e[i]; sum += e[i]; }
    }
    float inv = 1.0f / sum;
    __m256 vi = _mm256_set1_ps(inv);
    for (j = 0; j + 8 <= valid; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), vi));
    for (; j < valid; j++) row[j] *= inv;
    for (j = valid; j < width; j++) row[j] = 0;
}

// 0.5·(1 + tanh(u)) = 1 / (1 + e^(−2u)): the tanh form through the same exp8 as QuickGELU's sigmoid.
AVX2 static inline __m256 gelu_tanh8(__m256 v) {
    __m256 v3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
    __m256 u = _mm256_mul_ps(_mm256_set1_ps(gelu_tanh_beta), _mm256_fmadd_ps(_mm256_set1_ps(gelu_tanh_kappa), v3, v));
    __m256 e = exp8(_mm256_mul_ps(u, _mm256_set1_ps(-2.0f)));
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

AVX2 static void gelu_tanh_avx2(float *x, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu_tanh8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float tail[8] = {0};
        ptrdiff_t r = n - i;
        for (ptrdiff_t t = 0; t < r; t++) tail[t] = x[i + t];
        _mm256_storeu_ps(tail, gelu_tanh8(_mm256_loadu_ps(tail)));
        for (ptrdiff_t t = 0; t < r; t++) x[i + t] = tail[t];
    }
}

AVX2 static void quick_gelu_avx2(float *x, ptrdiff_t n) {
    ptrdiff_t i = 0;
    __m256 k = _mm256_set1_ps(-1.702f), one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = exp8(_mm256_mul_ps(v, k));
        _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
    }
    if (i < n) {
        float tail[8] = {0};
        ptrdiff_t r = n - i;
        for (ptrdiff_t t = 0; t < r; t++) tail[t] = x[i + t];
        __m256 v = _mm256_loadu_ps(tail);
        _mm256_storeu_ps(tail, _mm256_div_ps(v, _mm256_add_ps(one, exp8(_mm256_mul_ps(v, k)))));
        for (ptrdiff_t t = 0; t < r; t++) x[i + t] = tail[t];
    }
}
#endif

// Tree attention, one query row: plain C, and AVX2 (dot products and axpy 8 wide).
static void tree_row_c(const float *q, const int32_t *path, ptrdiff_t n, const float *k, const float *v, ptrdiff_t ld,
                       ptrdiff_t heads, ptrdiff_t hd, float scale, float *out, float *scores) {
    for (ptrdiff_t h = 0; h < heads; h++) {
        const float *qh = q + h * hd;
        float m = -INFINITY;
        for (ptrdiff_t j = 0; j < n; j++) {
            const float *kh = k + (ptrdiff_t)path[j] * ld + h * hd;
            float dot = 0;
            for (ptrdiff_t t = 0; t < hd; t++) dot += qh[t] * kh[t];
            scores[j] = dot * scale;
            if (scores[j] > m) m = scores[j];
        }
        float sum = 0;
        for (ptrdiff_t j = 0; j < n; j++) { scores[j] = expf(scores[j] - m); sum += scores[j]; }
        float inv = 1.0f / sum;
        float *oh = out + h * hd;
        for (ptrdiff_t t = 0; t < hd; t++) oh[t] = 0;
        for (ptrdiff_t j = 0; j < n; j++) {
            const float *vh = v + (ptrdiff_t)path[j] * ld + h * hd;
            float w = scores[j] * inv;
            for (ptrdiff_t t = 0; t < hd; t++) oh[t] += w * vh[t];
        }
    }
}

#ifdef CLIP_X86
AVX2 static void tree_row_avx2(const float *q, const int32_t *path, ptrdiff_t n, const float *k, const float *v, ptrdiff_t ld,
                               ptrdiff_t heads, ptrdiff_t hd, float scale, float *out, float *scores) {
    if (hd % 8 != 0) { tree_row_c(q, path, n, k, v, ld, heads, hd, scale, out, scores); return; }
    for (ptrdiff_t h = 0; h < heads; h++) {
        const float *qh = q + h * hd;
        float m = -INFINITY;
        for (ptrdiff_t j = 0; j < n; j++) {
            const float *kh = k + (ptrdiff_t)path[j] * ld + h * hd;
            __m256 acc = _mm256_setzero_ps();
            for (ptrdiff_t t = 0; t < hd; t += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(qh + t), _mm256_loadu_ps(kh + t), acc);
            scores[j] = hsum8(acc) * scale;
            if (scores[j] > m) m = scores[j];
        }
        float sum = 0;
        for (ptrdiff_t j = 0; j < n; j++) { scores[j] = expf(scores[j] - m); sum += scores[j]; }
        float inv = 1.0f / sum;
        float *oh = out + h * hd;
        for (ptrdiff_t t = 0; t < hd; t += 8) _mm256_storeu_ps(oh + t, _mm256_setzero_ps());
        for (ptrdiff_t j = 0; j < n; j++) {
            const float *vh = v + (ptrdiff_t)path[j] * ld + h * hd;
            __m256 w = _mm256_set1_ps(scores[j] * inv);
            for (ptrdiff_t t = 0; t < hd; t += 8)
                _mm256_storeu_ps(oh + t, _mm256_fmadd_ps(w, _mm256_loadu_ps(vh + t), _mm256_loadu_ps(oh + t)));
        }
    }
}
#endif

// MARK: dispatch

static int vectorised_state = -1;

int clip_kernels_vectorised(void) {
    int state = __atomic_load_n(&vectorised_state, __ATOMIC_RELAXED);
    if (state < 0) {
#ifdef CLIP_X86
        __builtin_cpu_init();
        state = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        state = 0;
#endif
        __atomic_store_n(&vectorised_state, state, __ATOMIC_RELAXED);
    }
    return state;
}

void clip_layer_norm(const float *x, ptrdiff_t rows, ptrdiff_t width, ptrdiff_t in_stride,
                     const float *gamma, const float *beta, float eps, float *y, ptrdiff_t out_stride) {
    int v = clip_kernels_vectorised();
    for (ptrdiff_t r = 0; r < rows; r++) {
#ifdef CLIP_X86
        if (v) { layer_norm_row_avx2(x + r * in_stride, width, gamma, beta, eps, y + r * out_stride); continue; }
#endif
        (void)v;
        layer_norm_row_c(x + r * in_stride, width, gamma, beta, eps, y + r * out_stride);
    }
}

void clip_add_bias(float *y, ptrdiff_t rows, ptrdiff_t width, ptrdiff_t ld, const float *bias) {
    int v = clip_kernels_vectorised();
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = y + r * ld;
#ifdef CLIP_X86
        if (v) { add_bias_row_avx2(row, width, bias); continue; }
#endif
        (void)v;
        for (ptrdiff_t j = 0; j < width; j++) row[j] += bias[j];
    }
}

void clip_add_bias_layer_norm(float *x, ptrdiff_t rows, ptrdiff_t width, const float *bias,
                              const float *gamma, const float *beta, float eps, float *y) {
    int v = clip_kernels_vectorised();
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = x + r * width;
#ifdef CLIP_X86
        if (v) {
            add_bias_row_avx2(row, width, bias);
            layer_norm_row_avx2(row, width, gamma, beta, eps, y + r * width);
            continue;
        }
#endif
        (void)v;
        for (ptrdiff_t j = 0; j < width; j++) row[j] += bias[j];
        layer_norm_row_c(row, width, gamma, beta, eps, y + r * width);
    }
}

void clip_fill_rows(float *y, ptrdiff_t rows, ptrdiff_t width, ptrdiff_t ld, const float *bias) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        if (bias) memcpy(y + r * ld, bias, (size_t)width * sizeof(float));
        else memset(y + r * ld, 0, (size_t)width * sizeof(float));
    }
}

void clip_quick_gelu(float *x, ptrdiff_t count) {
#ifdef CLIP_X86
    if (clip_kernels_vectorised()) { quick_gelu_avx2(x, count); return; }
#endif
    quick_gelu_c(x, count);
}

void clip_gelu_tanh(float *x, ptrdiff_t count) {
#ifdef CLIP_X86
    if (clip_kernels_vectorised()) { gelu_tanh_avx2(x, count); return; }
#endif
    gelu_tanh_c(x, count);
}

void clip_gelu(float *x, ptrdiff_t count) {
    const float inv_sqrt2 = 0.70710678118654752440f;
    for (ptrdiff_t i = 0; i < count; i++) { float v = x[i]; x[i] = 0.5f * v * (1.0f + erff(v * inv_sqrt2)); }
}

void clip_softmax_rows(float *s, ptrdiff_t rows, ptrdiff_t width, ptrdiff_t ld, int causal, ptrdiff_t first_row) {
    int v = clip_kernels_vectorised();
    for (ptrdiff_t r = 0; r < rows; r++) {
        ptrdiff_t valid = width;
        if (causal && first_row + r + 1 < width) valid = first_row + r + 1;
#ifdef CLIP_X86
        if (v) { softmax_row_avx2(s + r * ld, valid, width); continue; }
#endif
        (void)v;
        softmax_row_c(s + r * ld, valid, width);
    }
}

void clip_tree_attention(const float *q, ptrdiff_t q_ld, const int32_t *rows, ptrdiff_t first_row, ptrdiff_t count,
                         const float *k, const float *v, ptrdiff_t ld, const int32_t *parent,
                         ptrdiff_t heads, ptrdiff_t head_dim, float scale, float *out, ptrdiff_t out_ld,
                         int32_t *path, float *scores, ptrdiff_t depth) {
    int vec = clip_kernels_vectorised();
    for (ptrdiff_t i = 0; i < count; i++) {
        ptrdiff_t n = 0;
        for (int32_t r = rows ? rows[i] : (int32_t)(first_row + i); r >= 0 && n < depth; r = parent[r]) path[n++] = r;
#ifdef CLIP_X86
        if (vec) { tree_row_avx2(q + i * q_ld, path, n, k, v, ld, heads, head_dim, scale, out + i * out_ld, scores); continue; }
#endif
        (void)vec;
        tree_row_c(q + i * q_ld, path, n, k, v, ld, heads, head_dim, scale, out + i * out_ld, scores);
    }
}

ptrdiff_t clip_fetch_add(ptrdiff_t *counter, ptrdiff_t value) {
    return __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}
