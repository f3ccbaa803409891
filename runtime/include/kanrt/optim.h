/*===- kanrt/optim.h - backprop-free optimisers and replay log --*- C -*-===*/
/** \file
 * Optimiser updates that regenerate every perturbation v_i from its seed
 * (kanrt/rng.h) instead of storing it, and a replay log from which the final
 * weights are rebuilt bit-exactly.
 *
 * Order of floating-point operations (all in double, no fused multiply-add;
 * other code that calls these primitives in the same order is bit-identical):
 *  - dense update (kan_update_dense_*): for each element j in increasing
 *    order: acc = 0.0; for i = 0..n-1: acc = acc + coef[i] * v_i[j];
 *    theta[j] = theta[j] - scale * acc  (f32: computed in double from the
 *    float theta, rounded once to float).
 *  - sparse update (kan_update_sparse_*): for i = 0..n-1 with coef[i] != 0,
 *    for draws e = 0..m-1 in draw order: theta[idx] = theta[idx] - scale *
 *    (coef[i] * sign) (f32: rounded to float after each draw).
 *  - kan_optimizer_step: parameters in the order given; fg uses
 *    coef[i] = a_i and scale = lr / (double)n; ternary uses
 *    coef[i] = tau_i (kan_ternary_coefficients) and scale = lr.
 */
#ifndef KANRT_OPTIM_H
#define KANRT_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "kanrt/rng.h"
#include "kanrt/status.h"
#include "kanrt/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Stream id of a layer's tensors: which = 0 base_weight, 1 spline_weight,
 * 2 spline_scaler. */
#define KAN_STREAM_ID(layer, which) ((uint32_t)(3u * (uint32_t)(layer) + (uint32_t)(which)))

/** Optimiser kinds. */
typedef enum kan_optimizer_kind {
  KAN_OPT_FG = 0,     /**< theta -= lr * (1/n) * sum_i a_i v_i */
  KAN_OPT_TERNARY = 1, /**< noise_step: theta -= lr * sum_i tau_i v_i */
  /** Activity perturbation (kanrt/activity.h): the update depends on the
   * batch, so a log of it is replayed by re-running the steps on the data;
   * kan_optimizer_step refuses it. */
  KAN_OPT_ACTIVITY = 2
} kan_optimizer_kind;

/** How the estimated update g (fg: (1/n) sum_i a_i v_i, ternary:
 * sum_i tau_i v_i, activity: sum_r g_r phi(x_r)^T) moves the weights. */
typedef enum kan_optimizer_method {
  KAN_METHOD_SGD = 0,      /**< theta -= lr g */
  KAN_METHOD_MOMENTUM = 1, /**< m = beta1 m + g; theta -= lr m */
  /** t += 1; m = beta1 m + (1-beta1) g; v = beta2 v + (1-beta2) g^2;
   * theta -= lr (m / (1-beta1^t)) / (sqrt(v / (1-beta2^t)) + eps), with
   * beta^t formed by t multiplications */
  KAN_METHOD_ADAM = 2
} kan_optimizer_method;

/** Configuration of an optimiser run (stored in the replay log). */
typedef struct kan_optim_config {
  int kind;       /**< kan_optimizer_kind */
  int dist;       /**< kan_distribution of the directions v_i */
  uint32_t ndir;  /**< directions per step, n >= 1 */
  uint64_t seed;  /**< Philox key */
  double lr;      /**< learning rate */
  double density; /**< fraction of non-zeros for KAN_DIST_SPARSE */
  int method;     /**< kan_optimizer_method (0 = SGD, the zero default) */
  double beta1;   /**< momentum / Adam first-moment decay in [0, 1) */
  double beta2;   /**< Adam second-moment decay in [0, 1) */
  double eps;     /**< Adam denominator offset, > 0 */
} kan_optim_config;

/** One trainable tensor (the grid is not trained). */
typedef struct kan_param {
  const char *name; /**< e.g. "layers.0.base_weight" */
  uint32_t stream;  /**< KAN_STREAM_ID(layer, which) */
  kan_dtype dtype;  /**< KAN_DTYPE_F32 or KAN_DTYPE_F64 */
  size_t size;      /**< number of elements */
  void *data;       /**< the values, updated in place */
} kan_param;

/** tau_i = sign(a_i) if |a_i| >= med else 0, where med is the lower median
 * of |a_j| (element (n-1)/2, 0-based, of the ascending sort); sign(0) = 0
 * and NaN a_i gives 0. tau receives -1.0, 0.0 or +1.0. */
kan_status kan_ternary_coefficients(size_t n, const double *alpha,
                                    double *tau);

/** theta -= scale * sum_i coef[i] v_i for a dense distribution (normal or
 * rademacher) with v_i = perturbation(seed, step, dir i, stream). */
kan_status kan_update_dense_f64(uint64_t seed, uint32_t step, uint32_t ndir,
                                uint32_t stream, int dist, size_t size,
                                const double *coef, double scale,
                                double *theta);
/** Float-parameter version of kan_update_dense_f64. */
kan_status kan_update_dense_f32(uint64_t seed, uint32_t step, uint32_t ndir,
                                uint32_t stream, int dist, size_t size,
                                const double *coef, double scale,
                                float *theta);

/** theta -= scale * sum_i coef[i] v_i for sparse ternary v_i with
 * m = kan_sparse_count(size, density) draws each. O(n * m). */
kan_status kan_update_sparse_f64(uint64_t seed, uint32_t step, uint32_t ndir,
                                 uint32_t stream, size_t size,
                                 double density, const double *coef,
                                 double scale, double *theta);
/** Float-parameter version of kan_update_sparse_f64. */
kan_status kan_update_sparse_f32(uint64_t seed, uint32_t step, uint32_t ndir,
                                 uint32_t stream, size_t size,
                                 double density, const double *coef,
                                 double scale, float *theta);

/** Validates a configuration (kind, dist, ndir >= 1, finite lr, density in
 * (0,1] for sparse). */
kan_status kan_optim_config_check(const kan_optim_config *cfg);

/** The per-direction coefficients and scale of one step from the n JVP
 * scalars (see the file comment). coef has cfg->ndir entries. */
kan_status kan_optimizer_coefficients(const kan_optim_config *cfg,
                                      const double *jvp, double *coef,
                                      double *scale);

/** One optimiser step over all parameters from the n JVP scalars a_i. */
kan_status kan_optimizer_step(const kan_optim_config *cfg, uint32_t step,
                              const double *jvp, size_t nparams,
                              const kan_param *params);

/** kan_optimizer_step with the step size (lr, or lr/n for fg) multiplied by
 * lr_scale, as the generated train_step_scaled does (1.0 is exactly
 * kan_optimizer_step). lr_scale must be finite and non-negative. */
kan_status kan_optimizer_step_scaled(const kan_optim_config *cfg,
                                     uint32_t step, const double *jvp,
                                     double lr_scale, size_t nparams,
                                     const kan_param *params);

/** The state of a momentum or Adam run: per parameter the first moment m
 * (and for Adam the second moment v), in double, plus the number of steps
 * taken t. SGD has no state (nparams 0). It is a pure function of the
 * initial state and the logged steps, so replay rebuilds it. */
typedef struct kan_optim_state {
  int method;        /**< kan_optimizer_method */
  uint64_t t;        /**< steps taken */
  double beta1_t;    /**< beta1^t */
  double beta2_t;    /**< beta2^t */
  size_t nparams;    /**< parameters (0 for SGD) */
  size_t *size;      /**< element count of each */
  double **m;        /**< first moments */
  double **v;        /**< second moments (Adam), else NULL each */
} kan_optim_state;

/** Zero state for cfg->method over params (sizes taken from them). */
kan_status kan_optim_state_init(kan_optim_state *s,
                                const kan_optim_config *cfg, size_t nparams,
                                const kan_param *params);
/** Sets t and recomputes beta^t by t multiplications (a resumed run). */
kan_status kan_optim_state_set_steps(kan_optim_state *s,
                                     const kan_optim_config *cfg, uint64_t t);
/** Frees the buffers (s itself is the caller's; a zeroed s is a no-op). */
void kan_optim_state_free(kan_optim_state *s);

/** One step of cfg->method with step size lr_eff on params from the
 * estimated update grads[p] (double, params[p].size elements):
 * f32 parameters are updated in double and rounded once. */
kan_status kan_optim_apply(const kan_optim_config *cfg, kan_optim_state *s,
                           double lr_eff, size_t nparams,
                           const kan_param *params,
                           const double *const *grads);

/** kan_optim_apply in two parts, for a caller that splits the elements
 * across threads: kan_optim_begin checks the arguments and advances the
 * state's step count (t, beta^t) once; kan_optim_apply_range then updates
 * the elements [begin, end) of the parameters taken one after another
 * (ranges of one step must not overlap). Any split gives the bits of
 * kan_optim_apply, which is begin plus one range over all elements. */
kan_status kan_optim_begin(const kan_optim_config *cfg, kan_optim_state *s,
                           double lr_eff, size_t nparams,
                           const kan_param *params,
                           const double *const *grads);
void kan_optim_apply_range(const kan_optim_config *cfg,
                           const kan_optim_state *s, double lr_eff,
                           size_t nparams, const kan_param *params,
                           const double *const *grads, size_t begin,
                           size_t end);

/** kan_optimizer_step_scaled through cfg->method: g of every parameter is
 * regenerated from the seeds (fg: (1/n) sum_i a_i v_i, ternary:
 * sum_i tau_i v_i, in the order of kan_update_dense/sparse), then
 * kan_optim_apply with lr * lr_scale. With KAN_METHOD_SGD and s == NULL
 * this is kan_optimizer_step_scaled. */
kan_status kan_optimizer_step_state(const kan_optim_config *cfg,
                                    uint32_t step, const double *jvp,
                                    double lr_scale, size_t nparams,
                                    const kan_param *params,
                                    kan_optim_state *s);

/** SHA-256 of the parameters' values: the bytes of params[0].data,
 * params[1].data, ... (size x dtype size each, host order = little-endian)
 * in the given order. A replay log records it for its initial weights. */
void kan_weights_sha256(size_t nparams, const kan_param *params,
                        unsigned char out[32]);

/** Replay log (little-endian binary, version 4; versions 1 to 3 are still
 * read), see runtime/README.md:
 *   header: "KANRPLAY" (8 bytes), u32 version = 4, u32 kind, u32 dist,
 *           u32 ndir, u64 seed, f64 lr, f64 density, (version 4:) u32
 *           method, f64 beta1, f64 beta2, f64 eps, u32 nparams,
 *           u32 L, L bytes: path of the safetensors checkpoint holding the
 *           initial weights (may be empty; not NUL-terminated),
 *           nparams x { u32 N, N bytes name, u32 stream, u32 dtype,
 *           u64 size }, u32 start_step, 32 bytes kan_weights_sha256 of the
 *           initial weights (table order), u32 0x444E4548 ("HEND"),
 *           u32 CRC-32 of all header bytes before it.
 *   records (fixed size, appended): u32 0x50455453 ("STEP"), u32 step,
 *           f64 lr_scale, ndir x f64 JVP scalars a_i, u32 CRC-32 of the
 *           record's bytes before it. (Version 2: no start step, hash or
 *           checksums; version 1 also no lr_scale, which reads as 1.)
 * Limits: ndir <= 2^20, nparams <= 2^16, names and path <= 4096 bytes. */
typedef struct kan_replay_writer kan_replay_writer;

/** Creates (truncates) path and writes the header, with start_step (the
 * step of the first record to come) and the SHA-256 of params' current
 * values as the initial weights; init_checkpoint may be NULL. */
kan_status kan_replay_writer_open(const char *path,
                                  const kan_optim_config *cfg,
                                  const char *init_checkpoint,
                                  uint32_t start_step, size_t nparams,
                                  const kan_param *params,
                                  kan_replay_writer **out);
/** Appends one step record (lr_scale 1) with write(2). */
kan_status kan_replay_writer_append(kan_replay_writer *w, uint32_t step,
                                    const double *jvp);
/** Appends one step record of a step taken with kan_optimizer_step_scaled's
 * lr_scale. On a write error (a full disk) the bytes of the partial record
 * are cut off again, so the file ends with a whole record, and every later
 * append fails: the log stays readable up to the last record written. */
kan_status kan_replay_writer_append_scaled(kan_replay_writer *w,
                                           uint32_t step, double lr_scale,
                                           const double *jvp);
/** Whole records written so far. */
uint64_t kan_replay_writer_records(const kan_replay_writer *w);
/** Cuts the log back to its first nrecords records, so that it ends at an
 * earlier step (a run that keeps the weights of that step); later appends
 * follow them. */
kan_status kan_replay_writer_truncate(kan_replay_writer *w,
                                      uint64_t nrecords);
/** fsyncs and closes the log (NULL is a no-op). */
kan_status kan_replay_writer_close(kan_replay_writer *w);

/** One row of the log's parameter table. */
typedef struct kan_replay_param {
  char *name;      /**< tensor name */
  uint32_t stream; /**< stream id */
  kan_dtype dtype; /**< parameter dtype */
  size_t size;     /**< element count */
} kan_replay_param;

/** A parsed replay log. */
typedef struct kan_replay_log {
  uint32_t version;         /**< format version (1 to 4) */
  kan_optim_config config;  /**< optimiser configuration */
  char *init_checkpoint;    /**< initial-weights path ("" if none) */
  size_t nparams;           /**< parameter table size */
  kan_replay_param *params; /**< parameter table */
  size_t nsteps;            /**< number of step records */
  uint32_t *steps;          /**< step index of each record */
  double *jvp;              /**< nsteps x ndir JVP scalars */
  double *lr_scale;         /**< nsteps step-size factors (1 in version 1) */
  uint32_t start_step;      /**< step of the initial weights (versions 1-2:
                                 the first record's step, or 0) */
  int has_weights_sha256;   /**< version 3: weights_sha256 is set */
  unsigned char weights_sha256[32]; /**< kan_weights_sha256 of the initial
                                         weights, in table order */
  size_t dropped_records;   /**< damaged or partial records at the end,
                                 ignored (a torn tail) */
  size_t dropped_bytes;     /**< their bytes */
} kan_replay_log;

/** Reads and validates a replay log. A torn tail (a partial last record,
 * or damaged records with nothing intact after them) is left out and
 * counted in dropped_records/dropped_bytes; a damaged record followed by an
 * intact one is an error. */
kan_status kan_replay_read(const char *path, kan_replay_log *out);
/** kan_replay_read of a log in memory; name is used in messages. */
kan_status kan_replay_read_memory(const void *data, size_t size,
                                  const char *name, kan_replay_log *out);
/** Frees a log read by kan_replay_read. */
void kan_replay_log_free(kan_replay_log *log);
/** kan_replay_apply continuing from the optimiser state s (momentum or
 * Adam: the state of the log's initial weights, e.g. read from the
 * checkpoint a resumed run started from; NULL = a zero state), which it
 * leaves at the state after the last step. */
kan_status kan_replay_apply_state(const kan_replay_log *log, size_t nparams,
                                  const kan_param *params,
                                  kan_optim_state *s);
/** kan_replay_apply_state over the records [first, first + count) only, so
 * a caller can act between steps (kan-train's weight average); params hold
 * the weights before record `first` (checked against the log's SHA-256
 * when first is 0). */
kan_status kan_replay_apply_steps(const kan_replay_log *log, size_t first,
                                  size_t count, size_t nparams,
                                  const kan_param *params,
                                  kan_optim_state *state);
/** Applies every step of the log, in order, to params (which must hold the
 * initial weights and match the log's table by name, stream, dtype and
 * size; for version 3 logs their SHA-256 must equal the recorded one, else
 * KAN_ERR_MISMATCH). Bit-identical to the kan_optimizer_step calls that were
 * logged. */
kan_status kan_replay_apply(const kan_replay_log *log, size_t nparams,
                            const kan_param *params);

#ifdef __cplusplus
}
#endif
#endif /* KANRT_OPTIM_H */
