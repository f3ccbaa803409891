/*===- kanrt/kernels.h - KAN layer micro-kernels ----------------*- C -*-===*/
/** \file
 * Micro-kernels the generated code calls for a KAN layer (efficient-kan
 * semantics, see ALGORITHMS.md sections 1-2). Every kernel exists for
 * double (suffix _f64) and float (suffix _f32); both share one source.
 *
 * Shapes (row-major, "ld" = leading dimension = row stride in elements):
 *  - grid t: I x (G+2k+1), contiguous.
 *  - aux: kan_grid_aux_size(I,G,k) elements filled by kan_grid_prepare_*.
 *  - basis B: n rows, each I*(G+k) values, value j of input i at i*(G+k)+j.
 *  - features A = [act(x) | flat(B(x))]: K = I*(G+k+1) columns.
 *  - weights  W = [Wb | flat(C*S)]: O x K, so y = A W^T (kan_gemm_nt_*).
 * The caller owns every buffer; kernels never allocate except the GEMM,
 * which allocates packing buffers (and falls back to a loop if that fails).
 */
#ifndef KANRT_KERNELS_H
#define KANRT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "kanrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest supported spline order k (kernels keep k+1 values on the stack). */
#define KAN_MAX_SPLINE_ORDER 15

/** Base activation of a layer. */
typedef enum kan_activation {
  KAN_ACT_SILU = 0,    /**< silu(x) = x * sigmoid(x) (efficient-kan default) */
  KAN_ACT_IDENTITY = 1 /**< act(x) = x */
} kan_activation;

/** Number of elements (of the kernel's float type) of the aux buffer for a
 * grid of `in` inputs: in * (4 + k*(G+2k)). Returns 0 when G < 1, k < 0,
 * k > KAN_MAX_SPLINE_ORDER or the size overflows. */
size_t kan_grid_aux_size(size_t in, int G, int k);

/** Precomputes per input the reciprocals 1/(t[j+p]-t[j]) (0 where the
 * difference is 0) for p = 1..k and whether the knots are uniform (then the
 * span is found arithmetically, otherwise by binary search). grid must be
 * non-decreasing per row and finite: otherwise KAN_ERR_INVALID_ARGUMENT. */
kan_status kan_grid_prepare_f64(size_t in, int G, int k, const double *grid,
                                double *aux);
/** Float version of kan_grid_prepare_f64. */
kan_status kan_grid_prepare_f32(size_t in, int G, int k, const float *grid,
                                float *aux);

/** B-spline basis values (and first derivatives if dB != NULL) of n rows of
 * x (n x in, stride ldx): B[r*ldb + i*(G+k) + j] = B_j(x[r*ldx+i]) with the
 * Cox-de Boor semantics of efficient-kan (half-open intervals, 0 outside
 * [t0, t_{G+2k}), zero-denominator terms 0). Span-local evaluation. */
void kan_basis_f64(size_t n, size_t in, int G, int k, const double *x,
                   size_t ldx, const double *grid, const double *aux,
                   double *B, size_t ldb, double *dB, size_t lddb);
/** Float version of kan_basis_f64. */
void kan_basis_f32(size_t n, size_t in, int G, int k, const float *x,
                   size_t ldx, const float *grid, const float *aux, float *B,
                   size_t ldb, float *dB, size_t lddb);

/** Writes rows [0,m) of A = [act(x) | flat(B(x))] into panel (stride ldp,
 * K = in*(G+k+1) columns). act is a kan_activation. */
void kan_pack_features_f64(size_t m, size_t in, int G, int k, int act,
                           const double *x, size_t ldx, const double *grid,
                           const double *aux, double *panel, size_t ldp);
/** Float version of kan_pack_features_f64. */
void kan_pack_features_f32(size_t m, size_t in, int G, int k, int act,
                           const float *x, size_t ldx, const float *grid,
                           const float *aux, float *panel, size_t ldp);

/** Columns [c0, c1) of the panel kan_pack_features_f64 writes (column c
 * at panel[r * ldp + c - c0]), each value computed as there: one column
 * block of A at a time, for products that never hold all of A. */
void kan_pack_features_cols_f64(size_t m, size_t in, int G, int k, int act,
                                const double *x, size_t ldx,
                                const double *grid, const double *aux,
                                size_t c0, size_t c1, double *panel,
                                size_t ldp);
/** Float version of kan_pack_features_cols_f64. */
void kan_pack_features_cols_f32(size_t m, size_t in, int G, int k, int act,
                                const float *x, size_t ldx, const float *grid,
                                const float *aux, size_t c0, size_t c1,
                                float *panel, size_t ldp);

/** Tangent feature packing for ndir directions. Direction d's input tangent
 * is xt + d*xt_dir_stride (rows of stride ldxt); its output is
 * A'_d = [act'(x) x'_d | flat(B'(x) x'_d)] at tpanel + d*tpanel_dir_stride
 * (rows of stride ldtp). panel (may be NULL) receives A as in
 * kan_pack_features_f64. Basis values and derivatives are evaluated once per
 * element and reused for every direction. */
void kan_pack_features_jvp_f64(size_t m, size_t in, int G, int k, int act,
                               const double *x, size_t ldx, size_t ndir,
                               const double *xt, size_t ldxt,
                               size_t xt_dir_stride, const double *grid,
                               const double *aux, double *panel, size_t ldp,
                               double *tpanel, size_t ldtp,
                               size_t tpanel_dir_stride);
/** Float version of kan_pack_features_jvp_f64. */
void kan_pack_features_jvp_f32(size_t m, size_t in, int G, int k, int act,
                               const float *x, size_t ldx, size_t ndir,
                               const float *xt, size_t ldxt,
                               size_t xt_dir_stride, const float *grid,
                               const float *aux, float *panel, size_t ldp,
                               float *tpanel, size_t ldtp,
                               size_t tpanel_dir_stride);

/** Span-local forward of one layer: y (m x out, stride ldy) = A W^T with A
 * the features of kan_pack_features_* but without ever forming A. For each
 * input, only act(x) and the k+1 basis values of x's knot span are non-zero,
 * so each row does in*(k+2) instead of in*(G+k+1) multiply-adds per output.
 * Wspan comes from kan_pack_weights_span_* (stride ldw >= out). Inputs are
 * taken in blocks whose slice of Wspan stays in L1; for each block the span
 * values of all m rows (and, for the cubic with AVX-512, the rows grouped by
 * window start) go to work (kan_layer_forward_work_size_* bytes) and are
 * consumed at once. The sum order differs from the dense GEMM, so results
 * agree with it to rounding, not bit for bit; a row's result does not depend
 * on the other rows of the call. */
void kan_layer_forward_span_f64(size_t m, size_t in, size_t out, int G, int k,
                                int act, const double *x, size_t ldx,
                                const double *grid, const double *aux,
                                const double *Wspan, size_t ldw, void *work,
                                double *y, size_t ldy);
/** Float version of kan_layer_forward_span_f64. */
void kan_layer_forward_span_f32(size_t m, size_t in, size_t out, int G, int k,
                                int act, const float *x, size_t ldx,
                                const float *grid, const float *aux,
                                const float *Wspan, size_t ldw, void *work,
                                float *y, size_t ldy);
/** Bytes of work kan_layer_forward_span_* needs for m rows (0 on overflow or
 * invalid G, k). */
size_t kan_layer_forward_work_size_f64(size_t m, int G, int k);
/** Float version of kan_layer_forward_work_size_f64. */
size_t kan_layer_forward_work_size_f32(size_t m, int G, int k);

/** Weights in the layout of kan_layer_forward_span_*: K = in*(G+k+1) rows of
 * `out` values (stride ldw), input i owning rows i*(G+k+1) (base weight) and
 * i*(G+k+1)+1+j (spline coefficient j times the scaler). Same element count
 * as kan_pack_weights_*, transposed and regrouped by input. */
void kan_pack_weights_span_f64(size_t out, size_t in, int G, int k,
                               const double *base_w, const double *spline_w,
                               const double *scaler, double *W, size_t ldw);
/** Float version of kan_pack_weights_span_f64. */
void kan_pack_weights_span_f32(size_t out, size_t in, int G, int k,
                               const float *base_w, const float *spline_w,
                               const float *scaler, float *W, size_t ldw);

/** Dense packed weights W (kan_pack_weights_* layout, O x K, stride ldw)
 * regrouped into the span layout of kan_pack_weights_span_* (stride ldws). */
void kan_weights_dense_to_span_f64(size_t out, size_t in, int G, int k,
                                   const double *W, size_t ldw, double *Wspan,
                                   size_t ldws);
/** Float version of kan_weights_dense_to_span_f64. */
void kan_weights_dense_to_span_f32(size_t out, size_t in, int G, int k,
                                   const float *W, size_t ldw, float *Wspan,
                                   size_t ldws);

/** Input Jacobian of a layer, span-local: row (r, i) of J (at
 * J + (r*in + i)*ldj, ldj >= out) is dy[r][:]/dx[r][i] = act'(x) Wb[:][i] +
 * sum_j B'_j(x) C[:][i][j] S[:][i], from Wspan (kan_pack_weights_span_*).
 * Entries out..ldj-1 of each row are set to 0 (ldj a multiple of 8 lets
 * kan_jacobian_apply_* use full vector blocks only).
 * Since a KAN layer is a sum of one-input functions, y'_d = J x'_d for every
 * input tangent x'_d: one Jacobian serves all directions, at O*I values per
 * row instead of a tangent feature panel of I*(G+k+1) per row and
 * direction. */
void kan_layer_jacobian_span_f64(size_t m, size_t in, size_t out, int G,
                                 int k, int act, const double *x, size_t ldx,
                                 const double *grid, const double *aux,
                                 const double *Wspan, size_t ldw, double *J,
                                 size_t ldj);
/** Float version of kan_layer_jacobian_span_f64. */
void kan_layer_jacobian_span_f32(size_t m, size_t in, size_t out, int G,
                                 int k, int act, const float *x, size_t ldx,
                                 const float *grid, const float *aux,
                                 const float *Wspan, size_t ldw, float *J,
                                 size_t ldj);
/** y[r][o] = sum_i xt[r][i] J[r][i][o] (y overwritten; J as from
 * kan_layer_jacobian_span_*). */
void kan_jacobian_apply_f64(size_t m, size_t in, size_t out, const double *J,
                            size_t ldj, const double *xt, size_t ldxt,
                            double *y, size_t ldy);
/** Float version of kan_jacobian_apply_f64. */
void kan_jacobian_apply_f32(size_t m, size_t in, size_t out, const float *J,
                            size_t ldj, const float *xt, size_t ldxt, float *y,
                            size_t ldy);
/** kan_jacobian_apply_f64 for ndir directions at once: y[d] = J xt[d] with
 * xt[d] at xt + d*xt_dir_stride and y[d] at y + d*y_dir_stride (the
 * same per-row routine and summation order as kan_jacobian_apply_f64);
 * each row's Jacobian is read from memory once for all directions. */
void kan_jacobian_apply_multi_f64(size_t m, size_t in, size_t out, size_t ndir,
                                  const double *J, size_t ldj,
                                  const double *xt, size_t ldxt,
                                  size_t xt_dir_stride, double *y, size_t ldy,
                                  size_t y_dir_stride);
/** Float version of kan_jacobian_apply_multi_f64. */
void kan_jacobian_apply_multi_f32(size_t m, size_t in, size_t out, size_t ndir,
                                  const float *J, size_t ldj, const float *xt,
                                  size_t ldxt, size_t xt_dir_stride, float *y,
                                  size_t ldy, size_t y_dir_stride);

/** W = [Wb | flat(C*S)] (O x K, stride ldw) from base_w (O x I), spline_w
 * (O x I x (G+k)) and scaler (O x I, NULL means all ones). */
void kan_pack_weights_f64(size_t out, size_t in, int G, int k,
                          const double *base_w, const double *spline_w,
                          const double *scaler, double *W, size_t ldw);
/** Float version of kan_pack_weights_f64. */
void kan_pack_weights_f32(size_t out, size_t in, int G, int k,
                          const float *base_w, const float *spline_w,
                          const float *scaler, float *W, size_t ldw);

/** Tangent weights W' = [Wb' | flat(C'*S + C*S')]. Any tangent pointer may
 * be NULL (zero tangent); scaler NULL means S = 1 (and then S' is ignored). */
void kan_pack_weights_jvp_f64(size_t out, size_t in, int G, int k,
                              const double *spline_w, const double *scaler,
                              const double *base_wt, const double *spline_wt,
                              const double *scaler_t, double *Wt, size_t ldw);
/** Float version of kan_pack_weights_jvp_f64. */
void kan_pack_weights_jvp_f32(size_t out, size_t in, int G, int k,
                              const float *spline_w, const float *scaler,
                              const float *base_wt, const float *spline_wt,
                              const float *scaler_t, float *Wt, size_t ldw);

/** C = alpha * A * B^T + beta * C with A m x k (stride lda), B n x k
 * (stride ldb, like W), C m x n (stride ldc). beta == 0 never reads C.
 * Register-blocked portable kernel, or cblas when built with
 * KANRT_USE_CBLAS. */
void kan_gemm_nt_f64(size_t m, size_t n, size_t k, double alpha,
                     const double *A, size_t lda, const double *B, size_t ldb,
                     double beta, double *C, size_t ldc);
/** Float version of kan_gemm_nt_f64. */
void kan_gemm_nt_f32(size_t m, size_t n, size_t k, float alpha,
                     const float *A, size_t lda, const float *B, size_t ldb,
                     float beta, float *C, size_t ldc);
/** The portable kernel regardless of KANRT_USE_CBLAS (for comparisons). */
void kan_gemm_nt_portable_f64(size_t m, size_t n, size_t k, double alpha,
                              const double *A, size_t lda, const double *B,
                              size_t ldb, double beta, double *C, size_t ldc);
/** Float version of kan_gemm_nt_portable_f64. */
void kan_gemm_nt_portable_f32(size_t m, size_t n, size_t k, float alpha,
                              const float *A, size_t lda, const float *B,
                              size_t ldb, float beta, float *C, size_t ldc);
/** Elements of the buffer kan_gemm_pack_a_f64 fills for an m x k A (0 on
 * overflow). The size depends on the active kernel level. */
size_t kan_gemm_packed_a_size_f64(size_t m, size_t k);
/** Float version of kan_gemm_packed_a_size_f64. */
size_t kan_gemm_packed_a_size_f32(size_t m, size_t k);
/** All of A (m x k, stride lda) packed once into Ap for
 * kan_gemm_nt_packed_a_f64, so that products of one A with several B pack it
 * once instead of once per product. */
void kan_gemm_pack_a_f64(size_t m, size_t k, const double *A, size_t lda,
                         double *Ap);
/** Float version of kan_gemm_pack_a_f64. */
void kan_gemm_pack_a_f32(size_t m, size_t k, const float *A, size_t lda,
                         float *Ap);
/** C = A B^T + beta C from A packed by kan_gemm_pack_a_f64 (at the same
 * kernel level; Ap NULL packs A as usual): the same bits as
 * kan_gemm_nt_portable_f64 with alpha = 1 (A is still read when the
 * product is too small to pack). */
void kan_gemm_nt_packed_a_f64(size_t m, size_t n, size_t k, const double *A,
                              size_t lda, const double *Ap, const double *B,
                              size_t ldb, double beta, double *C, size_t ldc);
/** Float version of kan_gemm_nt_packed_a_f64. */
void kan_gemm_nt_packed_a_f32(size_t m, size_t n, size_t k, const float *A,
                              size_t lda, const float *Ap, const float *B,
                              size_t ldb, float beta, float *C, size_t ldc);
/** 1 when kan_gemm_nt_* forwards to cblas, 0 for the portable kernel. */
int kan_gemm_uses_cblas(void);

/** Sparse tangent y' = A W'^T for a sparse W': for e = 0..nnz-1 in order,
 * Y[:, rows_o[e]] += vals[e] * A[:, cols[e]] over the m rows of A (stride
 * lda) and Y (stride ldy). O(m * nnz); duplicates add. */
void kan_sparse_tangent_f64(size_t m, const double *A, size_t lda,
                            size_t nnz, const uint32_t *cols,
                            const uint32_t *rows_o, const double *vals,
                            double *Y, size_t ldy);
/** Float version of kan_sparse_tangent_f64. */
void kan_sparse_tangent_f32(size_t m, const float *A, size_t lda, size_t nnz,
                            const uint32_t *cols, const uint32_t *rows_o,
                            const float *vals, float *Y, size_t ldy);

/** Groups sparse triples (rows_o[e], cols[e], vals[e]) by output row into
 * CSR form: row o owns entries [rowptr[o], rowptr[o+1]) of cols_out and
 * vals_out, in their original order (stable counting sort, O(nnz + nout)).
 * rowptr has nout + 1 entries; every rows_o[e] must be < nout. */
void kan_coo_to_csr_f64(size_t nnz, const uint32_t *rows_o,
                        const uint32_t *cols, const double *vals, size_t nout,
                        uint32_t *rowptr, uint32_t *cols_out,
                        double *vals_out);
/** Float version of kan_coo_to_csr_f64. */
void kan_coo_to_csr_f32(size_t nnz, const uint32_t *rows_o,
                        const uint32_t *cols, const float *vals, size_t nout,
                        uint32_t *rowptr, uint32_t *cols_out, float *vals_out);

/** Sparse tangent y' = A W'^T with W' in CSR form by output row (see
 * kan_coo_to_csr_f64): Y[r, o] += sum_e vals[e] * A[r, cols[e]] over the
 * entries of row o, for the m rows of A (stride lda) and Y (stride ldy).
 * Each Y element is updated once, with the sum formed in entry order.
 * O(m * nnz), eight rows of A per pass over the indices. */
void kan_sparse_tangent_csr_f64(size_t m, const double *A, size_t lda,
                                size_t nout, const uint32_t *rowptr,
                                const uint32_t *cols, const double *vals,
                                double *Y, size_t ldy);
/** kan_sparse_tangent_csr_f64 for ndir directions at once: direction d
 * has its CSR at rowptr + d*rp_stride, cols/vals + d*nz_stride, and its Y at
 * Y + d*y_stride. Rows of A are taken eight at a time through every
 * direction, so each stays in cache once read (the per-direction kernel
 * streams all of A once per direction). Same sums in the same order. */
void kan_sparse_tangent_csr_multi_f64(size_t m, const double *A, size_t lda,
                                      size_t nout, size_t ndir,
                                      const uint32_t *rowptr, size_t rp_stride,
                                      const uint32_t *cols,
                                      const double *vals, size_t nz_stride,
                                      double *Y, size_t ldy, size_t y_stride);
/** Float version of kan_sparse_tangent_csr_multi_f64. */
void kan_sparse_tangent_csr_multi_f32(size_t m, const float *A, size_t lda,
                                      size_t nout, size_t ndir,
                                      const uint32_t *rowptr, size_t rp_stride,
                                      const uint32_t *cols, const float *vals,
                                      size_t nz_stride, float *Y, size_t ldy,
                                      size_t y_stride);
/** Float version of kan_sparse_tangent_csr_f64. */
void kan_sparse_tangent_csr_f32(size_t m, const float *A, size_t lda,
                                size_t nout, const uint32_t *rowptr,
                                const uint32_t *cols, const float *vals,
                                float *Y, size_t ldy);

#ifdef __cplusplus
}
#endif
#endif /* KANRT_KERNELS_H */
