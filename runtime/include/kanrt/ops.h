/*===- kanrt/ops.h - whole-op entry points of generated code ----*- C -*-===*/
/** \file
 * One call per kan op for the parts of a lowered module that are loops over
 * directions or elements rather than single kernels: the generated C only
 * sequences these calls (the compiler's EmitC conversion emits them), the
 * control flow lives here. Results are bit for bit those of the loops the
 * generated C used to contain.
 */
#ifndef KANRT_OPS_H
#define KANRT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kanrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks an argument a generated function does not read. */
#define KAN_UNUSED(x) ((void)(x))

/** A buffer of count elements of elem_size bytes (never a zero-byte
 * request, so NULL always means out of memory); release with free(). */
void *kan_buffer_alloc(size_t count, size_t elem_size);

/** KAN_ERR_OUT_OF_MEMORY for a NULL buffer, KAN_OK otherwise. */
kan_status kan_buffer_status(const void *p);

/** y = src unless they are the same buffer. */
void kan_copy_f64(size_t n, const double *src, double *y);
/** Float version of kan_copy_f64. */
void kan_copy_f32(size_t n, const float *src, float *y);
/** y[e] = v for e < n. */
void kan_fill_f64(size_t n, double v, double *y);
/** Float version of kan_fill_f64. */
void kan_fill_f32(size_t n, float v, float *y);
/** Elementwise y = a + b, a - b, a * b, -a over n elements. */
void kan_add_f64(size_t n, const double *a, const double *b, double *y);
void kan_sub_f64(size_t n, const double *a, const double *b, double *y);
void kan_mul_f64(size_t n, const double *a, const double *b, double *y);
void kan_neg_f64(size_t n, const double *a, double *y);
/** Float versions of the elementwise operations. */
void kan_add_f32(size_t n, const float *a, const float *b, float *y);
void kan_sub_f32(size_t n, const float *a, const float *b, float *y);
void kan_mul_f32(size_t n, const float *a, const float *b, float *y);
void kan_neg_f32(size_t n, const float *a, float *y);

/** Dense perturbations of directions first .. first + width - 1, each of
 * size elements, one after the other in out (kan.perturb). */
kan_status kan_perturb_dense_directions_f64(uint64_t seed, uint32_t step,
                                            uint32_t first, size_t width,
                                            uint32_t stream, int dist,
                                            size_t size, double *out);
/** Float version of kan_perturb_dense_directions_f64. */
kan_status kan_perturb_dense_directions_f32(uint64_t seed, uint32_t step,
                                            uint32_t first, size_t width,
                                            uint32_t stream, int dist,
                                            size_t size, float *out);
/** Sparse ternary perturbations of width directions written densely
 * (zeros elsewhere, duplicates add): a kan.perturb not fused into a GEMM. */
kan_status kan_perturb_sparse_directions_f64(uint64_t seed, uint32_t step,
                                             uint32_t first, size_t width,
                                             uint32_t stream, size_t size,
                                             double density, double *out);
/** Float version of kan_perturb_sparse_directions_f64. */
kan_status kan_perturb_sparse_directions_f32(uint64_t seed, uint32_t step,
                                             uint32_t first, size_t width,
                                             uint32_t stream, size_t size,
                                             double density, float *out);

/** kan_pack_weights_jvp_* for width directions: direction d reads
 * base_wt + d*out*in, spline_wt + d*out*in*gk, scaler_t + d*out*in (any may
 * be NULL) and writes Wt + d*out*ldw. */
void kan_pack_weights_jvp_directions_f64(size_t width, size_t out, size_t in,
                                         size_t gk, const double *spline_w,
                                         const double *scaler,
                                         const double *base_wt,
                                         const double *spline_wt,
                                         const double *scaler_t, double *Wt,
                                         size_t ldw);
/** Float version of kan_pack_weights_jvp_directions_f64. */
void kan_pack_weights_jvp_directions_f32(size_t width, size_t out, size_t in,
                                         size_t gk, const float *spline_w,
                                         const float *scaler,
                                         const float *base_wt,
                                         const float *spline_wt,
                                         const float *scaler_t, float *Wt,
                                         size_t ldw);

/** Streams of the sparse directions of a layer: Wb', C', S' (negative: the
 * tensor is not perturbed). */
typedef struct kan_sparse_streams {
  int64_t base, spline, scaler;
} kan_sparse_streams;

/** Non-zeros of one direction's CSR W'_d at most (the stride of the cols
 * and vals arrays of kan_sparse_direction_*); out x in inputs, gk = G + k
 * spline columns. */
size_t kan_sparse_directions_capacity(size_t out, size_t in, size_t gk,
                                      double density, int64_t base_stream,
                                      int64_t spline_stream,
                                      int64_t scaler_stream);
/** Bytes of the scratch one kan_sparse_direction_f64 call needs. */
size_t kan_sparse_directions_work_size_f64(size_t out, size_t in, size_t gk,
                                           double density,
                                           int64_t base_stream,
                                           int64_t spline_stream,
                                           int64_t scaler_stream);
/** Float version of kan_sparse_directions_work_size_f64. */
size_t kan_sparse_directions_work_size_f32(size_t out, size_t in, size_t gk,
                                           double density,
                                           int64_t base_stream,
                                           int64_t spline_stream,
                                           int64_t scaler_stream);
/** Direction dir of kan.sparse_directions: the sparse ternary draws of Wb',
 * C' and S' folded through the weight packing (C'S and C S' columns) as a
 * CSR matrix by output row: rowptr (out + 1 entries), cols and vals (at most
 * kan_sparse_directions_capacity entries). work: the scratch above. */
kan_status kan_sparse_direction_f64(uint64_t seed, uint32_t step,
                                    uint32_t dir, size_t out, size_t in,
                                    size_t gk, double density,
                                    int64_t base_stream, int64_t spline_stream,
                                    int64_t scaler_stream,
                                    const double *spline_w,
                                    const double *scaler, void *work,
                                    uint32_t *rowptr, uint32_t *cols,
                                    double *vals);
/** Float version of kan_sparse_direction_f64. */
kan_status kan_sparse_direction_f32(uint64_t seed, uint32_t step,
                                    uint32_t dir, size_t out, size_t in,
                                    size_t gk, double density,
                                    int64_t base_stream, int64_t spline_stream,
                                    int64_t scaler_stream,
                                    const float *spline_w, const float *scaler,
                                    void *work, uint32_t *rowptr,
                                    uint32_t *cols, float *vals);

/** One direction's weight tangent regenerated inside a row tile and applied:
 * draws Wb', C', S' (streams < 0: zero) into tb, tc, ts, packs W'_d into wt
 * (out x in(gk+1)) and adds A W'_d^T to Y (m rows, stride ldy); A is the
 * tile's feature panel (stride in(gk+1)). */
kan_status kan_regenerated_tangent_gemm_f64(
    size_t m, size_t out, size_t in, size_t gk, uint64_t seed, uint32_t step,
    uint32_t dir, int64_t base_stream, int64_t spline_stream,
    int64_t scaler_stream, int dist, const double *spline_w,
    const double *scaler, const double *A, double *wt, double *tb, double *tc,
    double *ts, double *Y, size_t ldy);
/** Float version of kan_regenerated_tangent_gemm_f64. */
kan_status kan_regenerated_tangent_gemm_f32(
    size_t m, size_t out, size_t in, size_t gk, uint64_t seed, uint32_t step,
    uint32_t dir, int64_t base_stream, int64_t spline_stream,
    int64_t scaler_stream, int dist, const float *spline_w,
    const float *scaler, const float *A, float *wt, float *tb, float *tc,
    float *ts, float *Y, size_t ldy);

/** C_d = A B_d^T + beta C_d for d < ndir, B_d = B + d * ldbd (n x k, stride
 * ldb), C_d = C + d * ldcd (m x n, stride ldc): one A against every
 * direction's packed weight tangent, A packed for the GEMM once (a buffer
 * of m x k values, allocated here). The same bits as ndir calls of
 * kan_gemm_nt_f64 with alpha = 1. */
void kan_gemm_nt_directions_f64(size_t ndir, size_t m, size_t n, size_t k,
                                const double *A, size_t lda, const double *B,
                                size_t ldb, size_t ldbd, double beta,
                                double *C, size_t ldc, size_t ldcd);
/** Float version of kan_gemm_nt_directions_f64. */
void kan_gemm_nt_directions_f32(size_t ndir, size_t m, size_t n, size_t k,
                                const float *A, size_t lda, const float *B,
                                size_t ldb, size_t ldbd, float beta, float *C,
                                size_t ldc, size_t ldcd);

/** kan_regenerated_tangent_gemm_f64 for directions first_dir ..
 * first_dir + ndir - 1 of one row tile, direction d adding into
 * Y + d * ldyd: the feature panel A is packed for the GEMM once, not once
 * per direction (a buffer of m x in(gk+1) values, allocated here). The
 * results are the same bits as ndir calls of
 * kan_regenerated_tangent_gemm_f64. */
kan_status kan_regenerated_tangent_gemm_directions_f64(
    size_t ndir, uint32_t first_dir, size_t m, size_t out, size_t in,
    size_t gk, uint64_t seed, uint32_t step, int64_t base_stream,
    int64_t spline_stream, int64_t scaler_stream, int dist,
    const double *spline_w, const double *scaler, const double *A,
    double *wt, double *tb, double *tc, double *ts, double *Y, size_t ldy,
    size_t ldyd);
/** Float version of kan_regenerated_tangent_gemm_directions_f64. */
kan_status kan_regenerated_tangent_gemm_directions_f32(
    size_t ndir, uint32_t first_dir, size_t m, size_t out, size_t in,
    size_t gk, uint64_t seed, uint32_t step, int64_t base_stream,
    int64_t spline_stream, int64_t scaler_stream, int dist,
    const float *spline_w, const float *scaler, const float *A, float *wt,
    float *tb, float *tc, float *ts, float *Y, size_t ldy, size_t ldyd);

/** The layer JVP of one row tile with regenerated dense directions, one
 * block of `cols` feature columns at a time: per block, columns [c0, c1) of
 * the features A of x (kan_pack_features_cols_f64), y += A_c W_c^T (y = for
 * the first block) and, for each direction d (first_dir + d), the columns
 * [c0, c1) of W'_d drawn and packed (the same numbers as
 * kan_regenerated_tangent_gemm_f64 draws whole) and Yt_d += A_c W'_{d,c}^T
 * (Yt_d = Yt + d * ldytd, rows of stride ldyt, holding the input tangents'
 * part or zeros). Neither A nor W'_d exists whole: work holds
 * kan_layer_jvp_cols_work_size(m, out, G + k, cols) values. Blocks of a
 * multiple of the GEMM's k-block (256) columns give the sums of the whole
 * products, in the same order. */
kan_status kan_regenerated_layer_jvp_cols_f64(
    size_t m, size_t in, int G, int k, int act, const double *x, size_t ldx,
    const double *grid, const double *aux, const double *W, size_t ldw,
    size_t out, size_t ndir, uint32_t first_dir, uint64_t seed,
    uint32_t step, int64_t base_stream, int64_t spline_stream,
    int64_t scaler_stream, int dist, const double *spline_w,
    const double *scaler, size_t cols, double *work, double *Y, size_t ldy,
    double *Yt, size_t ldyt, size_t ldytd);
/** Float version of kan_regenerated_layer_jvp_cols_f64. */
kan_status kan_regenerated_layer_jvp_cols_f32(
    size_t m, size_t in, int G, int k, int act, const float *x, size_t ldx,
    const float *grid, const float *aux, const float *W, size_t ldw,
    size_t out, size_t ndir, uint32_t first_dir, uint64_t seed,
    uint32_t step, int64_t base_stream, int64_t spline_stream,
    int64_t scaler_stream, int dist, const float *spline_w,
    const float *scaler, size_t cols, float *work, float *Y, size_t ldy,
    float *Yt, size_t ldyt, size_t ldytd);
/** Values of the per-call work of kan_regenerated_layer_jvp_cols_*: the
 * feature block (m x cols), one direction's W'_d block (out x cols) and the
 * draws and packing of one output row's inputs in a block. */
size_t kan_layer_jvp_cols_work_size(size_t m, size_t out, size_t gk,
                                    size_t cols);

/** Update rules of kan.update_coefficients. */
typedef enum kan_update_rule {
  KAN_RULE_FG = 0,     /**< c_i = a_i */
  KAN_RULE_TERNARY = 1 /**< c_i = kan_ternary_coefficients(a)_i */
} kan_update_rule;
/** The coefficients of one step from the width JVP scalars. */
kan_status kan_update_coefficients_f64(int rule, size_t width,
                                       const double *alphas, double *coef);
/** Float version of kan_update_coefficients_f64 (the median rule in
 * double). */
kan_status kan_update_coefficients_f32(int rule, size_t width,
                                       const float *alphas, float *coef);
/** kan_update_dense_* / kan_update_sparse_* with coefficients of the
 * parameter's type (widened to double exactly). */
kan_status kan_apply_update_dense_f64(uint64_t seed, uint32_t step,
                                      uint32_t ndir, uint32_t stream, int dist,
                                      size_t size, const double *coef,
                                      double scale, double *theta);
kan_status kan_apply_update_dense_f32(uint64_t seed, uint32_t step,
                                      uint32_t ndir, uint32_t stream, int dist,
                                      size_t size, const float *coef,
                                      double scale, float *theta);
kan_status kan_apply_update_sparse_f64(uint64_t seed, uint32_t step,
                                       uint32_t ndir, uint32_t stream,
                                       size_t size, double density,
                                       const double *coef, double scale,
                                       double *theta);
kan_status kan_apply_update_sparse_f32(uint64_t seed, uint32_t step,
                                       uint32_t ndir, uint32_t stream,
                                       size_t size, double density,
                                       const float *coef, double scale,
                                       float *theta);

#ifdef __cplusplus
}
#endif
#endif /* KANRT_OPS_H */
