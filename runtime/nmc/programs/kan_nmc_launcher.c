/*===- kan_nmc_launcher.c - host launcher of an emitted NM Quad model ----===*
 *
 * The PL_* launcher every emitted folder builds as model_host (board) or
 * links into model_emu (host emulation): weights, batches and results move
 * through each chip's DDR; chips take contiguous batch slices; train steps
 * sum the chips' JVP partials and send back the update coefficients. What
 * varies with the model comes from kan_nmc_model (the folder's
 * model_host.c, kan_nmc_launch.h).
 *===----------------------------------------------------------------------===*/
#define _XOPEN_SOURCE 700 /* realpath, M_PI */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kanrt/io.h>
#include <kanrt/optim.h>
#include <kanrt/tensor.h>

#include "kan_nmc_host.h"
#include "kan_nmc_launch.h"
#include "nm_quad_load.h"
#ifdef KAN_NMC_HOST_EMU
#include "kan_nmc_emu.h"
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define CHECK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != PL_OK) {                                                        \
      fprintf(stderr, "model_host: %s failed with %d (line %d)\n", #call, rc_, \
              __LINE__);                                                       \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static PL_Board *board[KAN_NMC_MAX_CHIPS];
static PL_Access *acc[KAN_NMC_MAX_CHIPS][KAN_NMC_CHIP_CORES];
static unsigned nchips, ncores;

/* Every core of every chip: post cmd, expect `expect` back. */
static void sync_all(int cmd, int expect) {
  unsigned c, k;
  for (c = 0; c < nchips; ++c)
    for (k = 0; k < ncores; ++k) {
      int rv = -1;
      CHECK(PL_Sync(acc[c][k], cmd, &rv));
      if (rv != expect) {
        fprintf(stderr, "model_host: chip %u core %u answered %d\n", c, k, rv);
        exit(1);
      }
    }
}

/* The io words of a data run that stay from step to step (KAN_IO_DATA..). */
static PL_Word data_io[KAN_IO_WORDS];

static void write_io_scaled(unsigned chip, unsigned rows,
                            unsigned long long seed, unsigned step,
                            double lr_scale) {
  PL_Word io[KAN_IO_WORDS];
  memcpy(io, data_io, sizeof io);
  io[KAN_IO_ROWS] = rows;
  io[KAN_IO_CORES] = ncores;
  io[KAN_IO_SEED_LO] = (PL_Word)(seed & 0xFFFFFFFFu);
  io[KAN_IO_SEED_HI] = (PL_Word)(seed >> 32);
  io[KAN_IO_STEP] = step;
  memcpy(io + KAN_IO_LR_SCALE, &lr_scale, sizeof lr_scale);
  CHECK(PL_WriteMemBlock(acc[chip][0], io, kan_nmc_model.addr_io, KAN_IO_WORDS));
}

static void write_io(unsigned chip, unsigned rows, unsigned long long seed,
                     unsigned step) {
  write_io_scaled(chip, rows, seed, step, 1.0);
}

static unsigned slice(unsigned n, unsigned chip, unsigned *begin) {
  *begin = chip * n / nchips;
  return (chip + 1) * n / nchips - *begin;
}

static void usage_exit(int rc) {
  fprintf(rc ? stderr : stdout,
          "usage: model_emu [--chips C] [--cores K] [--weights W.safetensors]\n"
          "  [--input x.npy --output y.npy] [--train STEPS --seed S\n"
          "  --labels l.npy --save out.safetensors]\n"
          "  [--data DIR --batch B --train STEPS --seed S [--eval-every E]\n"
          "   [--checkpoint-every C] [--checkpoint FILE] [--replay-log LOG]\n"
          "   [--lr-schedule cosine|linear|constant] [--lr-final F]\n"
          "   [--lr-schedule-steps N] [--save out.safetensors]]\n"
          "--data trains on the MNIST-family IDX files of DIR\n"
          "(train-images-idx3-ubyte, train-labels-idx1-ubyte and, if present,\n"
          "t10k-*; plain or .gz) held in every chip's DDR: each step's batch of B\n"
          "rows is drawn on the chips from the seed as kan-train draws it, the\n"
          "chips split its rows; the host writes only the step number and reads\n"
          "the loss and JVP scalars (the replay log, which kan-train --replay\n"
          "reads), the test accuracy every E steps (default 500, and at the end;\n"
          "computed on the chips) and checkpoints every C steps (default 1000,\n"
          "and at the end). The schedule is kan-train's (default cosine to\n"
          "lr-final 0.1 over the run).\n");
  exit(rc);
}

static void usage(void) { usage_exit(2); }

/* A count option's value, or a message naming the option. */
static unsigned count_arg(const char *opt, const char *v, unsigned lo) {
  char *end;
  unsigned long n = strtoul(v, &end, 10);
  if (!*v || *end || *v == '-' || n < lo || n > 0xFFFFFFFFul) {
    fprintf(stderr, "model_host: %s %s: need a whole number >= %u\n", opt, v,
            lo);
    exit(2);
  }
  return (unsigned)n;
}

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) {
    fprintf(stderr, "model_host: out of memory\n");
    exit(1);
  }
  return p;
}

/* Targets of chip c's rows [b, b + n): the labels file's or a fixed
 * pattern. */
static void write_targets(unsigned c, unsigned b, unsigned n,
                          const kan_tensor *lab) {
  const kan_nmc_launch_model *m = &kan_nmc_model;
  unsigned i;
  if (m->loss_mse) {
    /* Rows of the program's element type (an f64 labels file either way). */
    double *tg = (double *)xmalloc(sizeof(double) * n * m->outputs);
    float *tf = (float *)tg;
    for (i = 0; i < n * m->outputs; ++i) {
      double v = lab ? ((double *)lab->data)[b * m->outputs + i]
                     : (double)((b * m->outputs + i) % 7u) / 7.0;
      if (m->f32)
        tf[i] = (float)v;
      else
        tg[i] = v;
    }
    CHECK(PL_WriteMemBlock(acc[c][0], (const PL_Word *)tg, m->addr_target,
                           (m->f32 ? 1u : 2u) * n * m->outputs));
    free(tg);
  } else {
    PL_Word *tg = (PL_Word *)xmalloc(sizeof(PL_Word) * n);
    for (i = 0; i < n; ++i)
      tg[i] = lab ? (PL_Word)(lab->dtype == KAN_DTYPE_I64
                                  ? ((long long *)lab->data)[b + i]
                                  : ((int *)lab->data)[b + i])
                  : (PL_Word)((b + i) % m->outputs);
    CHECK(PL_WriteMemBlock(acc[c][0], tg, m->addr_target, n));
    free(tg);
  }
}

static int train(unsigned steps, unsigned long long seed, unsigned n_all,
                 const char *labels, const char *save, kan_tensor_map *w) {
  const kan_nmc_launch_model *m = &kan_nmc_model;
  unsigned nd = m->directions, c, i, t;
  kan_tensor lab;
  int have_lab = labels && kan_npy_read(labels, 0, &lab) == KAN_OK;
  double *part = (double *)xmalloc(sizeof(double) * (1 + nd));
  double *sum = (double *)xmalloc(sizeof(double) * (1 + nd));
  double *alpha = (double *)xmalloc(sizeof(double) * nd);
  double *coef = (double *)xmalloc(sizeof(double) * nd);
  for (c = 0; c < nchips; ++c) {
    unsigned b, n = slice(n_all, c, &b);
    write_targets(c, b, n, have_lab ? &lab : NULL);
  }
  for (t = 0; t < steps; ++t) {
    double loss, denom;
    for (c = 0; c < nchips; ++c) {
      unsigned b, n = slice(n_all, c, &b);
      write_io(c, n, seed, t);
    }
    sync_all(KAN_CMD_TRAIN, KAN_SYNC_READY);
    sync_all(0, KAN_SYNC_PARTIALS); /* partials written */
    /* Only the JVP scalars cross chips. */
    memset(sum, 0, sizeof(double) * (1 + nd));
    for (c = 0; c < nchips; ++c) {
      CHECK(PL_ReadMemBlock(acc[c][0], (PL_Word *)part, m->addr_partials,
                            2u * (1 + nd)));
      for (i = 0; i <= nd; ++i)
        sum[i] += part[i];
    }
    denom = m->loss_mse ? (double)n_all * m->outputs : (double)n_all;
    loss = sum[0] / denom;
    for (i = 0; i < nd; ++i)
      alpha[i] = sum[1 + i] / denom;
    if (m->rule_fg)
      memcpy(coef, alpha, sizeof(double) * nd);
    else
      kan_ternary_coefficients(nd, alpha, coef);
    for (c = 0; c < nchips; ++c)
      CHECK(PL_WriteMemBlock(acc[c][0], (const PL_Word *)coef,
                             m->addr_coefficients, 2u * nd));
    sync_all(0, KAN_SYNC_PARTIALS);
    sync_all(-1, KAN_SYNC_READY); /* update done on every core */
    printf("step %u loss %.17g alpha0 %.17g\n", t, loss, alpha[0]);
  }
  free(part);
  free(sum);
  free(alpha);
  free(coef);
  if (have_lab)
    kan_tensor_free(&lab);
  if (save) {
    /* Every chip applied the same update: read chip 0's parameters. */
    for (i = 0; i < m->nparams; ++i)
      CHECK(PL_ReadMemBlock(
          acc[0][0], (PL_Word *)kan_tensor_map_find(w, m->params[i].name)->data,
          m->params[i].addr, (m->f32 ? 1u : 2u) * m->params[i].numel));
    if (kan_safetensors_write(save, w) != KAN_OK) {
      fprintf(stderr, "model_host: cannot write %s\n", save);
      return 1;
    }
  }
  return 0;
}


/*===--- Training on data held in chip DDR (--data) ------------------------===*/

typedef struct data_set {
  kan_tensor img, lab;
  unsigned rows, inputs;
} data_set;

/* DIR/name, or DIR/name.gz when only that exists. */
static int find_idx(const char *dir, const char *name, char *out, size_t n) {
  FILE *f;
  snprintf(out, n, "%s/%s", dir, name);
  if ((f = fopen(out, "rb"))) {
    fclose(f);
    return 1;
  }
  snprintf(out, n, "%s/%s.gz", dir, name);
  if ((f = fopen(out, "rb"))) {
    fclose(f);
    return 1;
  }
  return 0;
}

static int load_set(const char *dir, const char *images, const char *labels,
                    data_set *d, int required) {
  const kan_nmc_launch_model *m = &kan_nmc_model;
  char ip[4096], lp[4096];
  size_t i;
  int hi = find_idx(dir, images, ip, sizeof ip);
  int hl = find_idx(dir, labels, lp, sizeof lp);
  memset(d, 0, sizeof *d);
  if (!hi || !hl) {
    if (required || hi || hl) {
      fprintf(stderr, "model_host: --data %s: no %s%s\n", dir,
              hi ? labels : images, hi ? "(.gz)" : "(.gz)");
      return -1;
    }
    return 0;
  }
  if (kan_idx_read(ip, &d->img) != KAN_OK || kan_idx_read(lp, &d->lab) != KAN_OK) {
    fprintf(stderr, "model_host: %s\n", kan_last_error());
    return -1;
  }
  if (d->img.dtype != KAN_DTYPE_U8 || d->lab.dtype != KAN_DTYPE_U8 ||
      d->img.ndim < 2 || d->lab.ndim != 1 || d->img.shape[0] == 0) {
    fprintf(stderr, "model_host: %s, %s: need unsigned-byte IDX images and "
                    "1-D labels\n", ip, lp);
    return -1;
  }
  d->rows = (unsigned)d->img.shape[0];
  d->inputs = (unsigned)(kan_tensor_numel(&d->img) / d->rows);
  if (d->lab.shape[0] != d->rows) {
    fprintf(stderr, "model_host: %s: %u labels for %u images in %s\n", lp,
            (unsigned)d->lab.shape[0], d->rows, ip);
    return -1;
  }
  if (d->inputs != m->inputs) {
    fprintf(stderr, "model_host: %s: images of %u pixels, the model takes %u "
                    "inputs\n", ip, d->inputs, m->inputs);
    return -1;
  }
  for (i = 0; i < d->rows; ++i)
    if (((unsigned char *)d->lab.data)[i] >= m->outputs) {
      fprintf(stderr, "model_host: %s: sample %u has label %u but the model "
                      "has %u classes\n", lp, (unsigned)i,
              ((unsigned char *)d->lab.data)[i], m->outputs);
      return -1;
    }
  return 1;
}

/* Images (packed four bytes a word) and labels of `d` at `img` / `lab` of
 * every chip. */
static void put_set(const data_set *d, unsigned img, unsigned lab) {
  unsigned rw = KAN_DATA_ROW_WORDS(d->inputs), r, j, c;
  PL_Word *buf = (PL_Word *)xmalloc(sizeof(PL_Word) * rw * 1024u);
  const unsigned char *px = (const unsigned char *)d->img.data;
  PL_Word *lw = (PL_Word *)xmalloc(sizeof(PL_Word) * d->rows);
  for (r = 0; r < d->rows; r += 1024u) {
    unsigned n = d->rows - r < 1024u ? d->rows - r : 1024u, i;
    memset(buf, 0, sizeof(PL_Word) * rw * n);
    for (i = 0; i < n; ++i)
      for (j = 0; j < d->inputs; ++j)
        buf[i * rw + j / 4u] |=
            (PL_Word)px[(size_t)(r + i) * d->inputs + j] << (8u * (j % 4u));
    for (c = 0; c < nchips; ++c)
      CHECK(PL_WriteMemBlock(acc[c][0], buf, img + r * rw, rw * n));
  }
  for (r = 0; r < d->rows; ++r)
    lw[r] = ((const unsigned char *)d->lab.data)[r];
  for (c = 0; c < nchips; ++c)
    CHECK(PL_WriteMemBlock(acc[c][0], lw, lab, d->rows));
  free(buf);
  free(lw);
}

typedef struct data_opts {
  const char *dir, *checkpoint, *replay_log, *save, *schedule;
  unsigned batch, steps, eval_every, checkpoint_every, schedule_steps;
  double lr_final;
  unsigned long long seed;
} data_opts;

/* kan-train's step-size factor at schedule progress p in [0, 1]. */
static double lr_scale_at(const data_opts *o, double p) {
  if (p < 0)
    p = 0;
  if (p > 1)
    p = 1;
  if (!strcmp(o->schedule, "linear"))
    return 1.0 - (1.0 - o->lr_final) * p;
  if (!strcmp(o->schedule, "cosine"))
    return o->lr_final + (1.0 - o->lr_final) * 0.5 * (1.0 + cos(M_PI * p));
  return 1.0;
}

/* The parameters read back from chip 0 (every chip applies the same
 * update) into w, with kan-train's checkpoint metadata at `step`. */
static void read_back(kan_tensor_map *w, const data_opts *o, unsigned step) {
  const kan_nmc_launch_model *m = &kan_nmc_model;
  char v[64], widths[256];
  unsigned i, k = 0, layers = 0, G = 0, order = 0;
  size_t len = 0;
  for (i = 0; i < m->nparams; ++i)
    CHECK(PL_ReadMemBlock(
        acc[0][0], (PL_Word *)kan_tensor_map_find(w, m->params[i].name)->data,
        m->params[i].addr, (m->f32 ? 1u : 2u) * m->params[i].numel));
  /* Widths, grid size and order from the tensors' shapes. */
  widths[0] = 0;
  for (;; ++layers) {
    char name[64];
    kan_tensor *b, *g, *sw;
    snprintf(name, sizeof name, "layers.%u.base_weight", layers);
    if (!(b = kan_tensor_map_find(w, name)))
      break;
    snprintf(name, sizeof name, "layers.%u.grid", layers);
    g = kan_tensor_map_find(w, name);
    snprintf(name, sizeof name, "layers.%u.spline_weight", layers);
    sw = kan_tensor_map_find(w, name);
    if (layers == 0)
      len += (size_t)snprintf(widths + len, sizeof widths - len, "%u",
                              (unsigned)b->shape[1]);
    len += (size_t)snprintf(widths + len, sizeof widths - len, ",%u",
                            (unsigned)b->shape[0]);
    if (g && sw && g->ndim == 2 && sw->ndim == 3) {
      k = (unsigned)(g->shape[1] - sw->shape[2] - 1u);
      order = k;
      G = (unsigned)sw->shape[2] - k;
    }
  }
#define META(key, ...)                                                         \
  do {                                                                         \
    snprintf(v, sizeof v, __VA_ARGS__);                                        \
    kan_tensor_map_set_meta(w, key, v);                                        \
  } while (0)
  kan_tensor_map_set_meta(w, "format", "efficient-kan");
  kan_tensor_map_set_meta(w, "base_activation", "silu");
  kan_tensor_map_set_meta(w, "widths", widths);
  META("grid_size", "%u", G);
  META("spline_order", "%u", order);
  kan_tensor_map_set_meta(w, "dtype", "f64");
  META("step", "%u", step);
  META("seed", "%llu", o->seed);
  META("batch", "%u", o->batch);
  kan_tensor_map_set_meta(w, "rule", m->rule_fg ? "fg" : "ternary");
  kan_tensor_map_set_meta(w, "dist", "sparse_ternary");
  META("directions", "%u", m->directions);
  META("density", "%.17g", m->density);
  META("lr", "%.17g", m->rule_fg ? m->update_scale * m->directions : m->update_scale);
  kan_tensor_map_set_meta(w, "lr_schedule", o->schedule);
  META("lr_final", "%.17g", o->lr_final);
  META("lr_schedule_steps", "%u", o->schedule_steps);
#undef META
}

static int write_weights(kan_tensor_map *w, const char *path) {
  if (kan_safetensors_write(path, w) != KAN_OK) {
    fprintf(stderr, "model_host: cannot write %s: %s\n", path, kan_last_error());
    return 1;
  }
  return 0;
}

/* Runs `cmd` on every core of every chip and waits until all are back. */
static void run_all(int cmd) {
  sync_all(cmd, KAN_SYNC_READY);
  sync_all(-1, KAN_SYNC_READY);
}

/* Test accuracy computed on the chips: rows of the test set in slices of
 * at most nchips x batch, forward pass, argmax counted by the cores. */
static double evaluate_on_chips(const data_set *t, unsigned ctrl) {
  const kan_nmc_launch_model *m = &kan_nmc_model;
  PL_Word zero[KAN_NMC_CHIP_CORES], cnt[KAN_NMC_CHIP_CORES];
  unsigned c, k, start, correct = 0;
  memset(zero, 0, sizeof zero);
  for (c = 0; c < nchips; ++c)
    CHECK(PL_WriteMemBlock(acc[c][0], zero, ctrl + KAN_DATA_CTRL_CORRECT,
                           KAN_NMC_CHIP_CORES));
  for (start = 0; start < t->rows; start += nchips * m->batch) {
    unsigned n = t->rows - start < nchips * m->batch ? t->rows - start
                                                     : nchips * m->batch;
    for (c = 0; c < nchips; ++c) {
      unsigned b, rows = slice(n, c, &b);
      data_io[KAN_IO_TEST_ROW0] = start + b;
      write_io(c, rows, 0, 0);
    }
    run_all(KAN_CMD_TEST_ROWS);
    run_all(KAN_CMD_FORWARD);
    run_all(KAN_CMD_SCORE);
  }
  for (c = 0; c < nchips; ++c) {
    CHECK(PL_ReadMemBlock(acc[c][0], cnt, ctrl + KAN_DATA_CTRL_CORRECT,
                          KAN_NMC_CHIP_CORES));
    for (k = 0; k < KAN_NMC_CHIP_CORES; ++k)
      correct += cnt[k];
  }
  return (double)correct / (double)t->rows;
}

static int train_data(const data_opts *o, kan_tensor_map *w) {
  const kan_nmc_launch_model *m = &kan_nmc_model;
  unsigned nd = m->directions, c, i, t, ctrl, img, lab, timg = 0, tlab = 0;
  unsigned long long end;
  data_set tr, te;
  int have_test, rc = 0;
  double *part = (double *)xmalloc(sizeof(double) * (1 + nd));
  double *sum = (double *)xmalloc(sizeof(double) * (1 + nd));
  double *alpha = (double *)xmalloc(sizeof(double) * nd);
  double *coef = (double *)xmalloc(sizeof(double) * nd);
  kan_replay_writer *writer = NULL;
  if (m->loss_mse) {
    fprintf(stderr, "model_host: --data: this model's loss is the mean "
                    "squared error; IDX labels need the cross-entropy "
                    "(classification) train step\n");
    return 2;
  }
  if (load_set(o->dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               &tr, 1) <= 0)
    return 1;
  if ((have_test = load_set(o->dir, "t10k-images-idx3-ubyte",
                            "t10k-labels-idx1-ubyte", &te, 0)) < 0)
    return 1;
  if (o->batch < 1 || o->batch > tr.rows) {
    fprintf(stderr, "model_host: --batch %u: need 1..%u (the training set's "
                    "rows)\n", o->batch, tr.rows);
    return 2;
  }
  if ((o->batch + nchips - 1u) / nchips > m->batch) {
    fprintf(stderr, "model_host: --batch %u on %u chip(s) gives %u rows per "
                    "chip; this folder was emitted for at most %u "
                    "(kan-translate --batch)\n", o->batch, nchips,
            (o->batch + nchips - 1u) / nchips, m->batch);
    return 2;
  }
  /* DDR above the model's map: data control block, training set, test set. */
  ctrl = (m->ddr_end + 63u) & ~63u;
  img = ctrl + KAN_DATA_CTRL_WORDS(tr.rows);
  lab = img + tr.rows * KAN_DATA_ROW_WORDS(tr.inputs);
  end = (unsigned long long)lab + tr.rows;
  if (have_test) {
    timg = (unsigned)end;
    tlab = timg + te.rows * KAN_DATA_ROW_WORDS(te.inputs);
    end = (unsigned long long)tlab + te.rows;
  }
  if (end > KAN_NMC_DDR_END) {
    fprintf(stderr, "model_host: --data %s: the training and test sets need "
                    "DDR words up to 0x%llx, %llu words past the end of the "
                    "cores' DDR window (0x%x)\n", o->dir, end,
            end - KAN_NMC_DDR_END, KAN_NMC_DDR_END);
    return 1;
  }
#ifdef KAN_NMC_HOST_EMU
  if (end > KAN_NMC_DDR_BASE + (unsigned long long)kan_nmc_emu_ddr_words()) {
    fprintf(stderr, "model_host: --data %s: the training and test sets need "
                    "DDR words up to 0x%llx, %llu words more than the "
                    "emulated DDR holds (KAN_NMC_DDR_WORDS=%u)\n", o->dir, end,
            end - KAN_NMC_DDR_BASE - kan_nmc_emu_ddr_words(),
            kan_nmc_emu_ddr_words());
    return 1;
  }
#endif
  {
    unsigned words = KAN_DATA_CTRL_PERM, done;
    PL_Word zero[1024];
    memset(zero, 0, sizeof zero);
    for (c = 0; c < nchips; ++c)
      for (done = 0; done < words; done += 1024u)
        CHECK(PL_WriteMemBlock(acc[c][0], zero, ctrl + done,
                               words - done < 1024u ? words - done : 1024u));
  }
  put_set(&tr, img, lab);
  if (have_test)
    put_set(&te, timg, tlab);
  memset(data_io, 0, sizeof data_io);
  data_io[KAN_IO_DATA] = img;
  data_io[KAN_IO_DATA_ROWS] = tr.rows;
  data_io[KAN_IO_DATA_LABELS] = lab;
  data_io[KAN_IO_DATA_CTRL] = ctrl;
  data_io[KAN_IO_BATCH] = o->batch;
  data_io[KAN_IO_TEST] = timg;
  data_io[KAN_IO_TEST_LABELS] = tlab;
  printf("model_host: %u training rows%s in DDR of %u chip(s) x %u "
         "core(s), words 0x%x-0x%llx; batch %u (%u rows per chip at most)\n",
         tr.rows, have_test ? " and the test set" : "", nchips, ncores,
         ctrl, end, o->batch, (o->batch + nchips - 1u) / nchips);
  if (o->replay_log) {
    /* The log's initial weights: a file of its own, as kan-train writes. */
    char init[4096];
    /* Plain SGD: the method and its constants stay zero. */
    kan_optim_config oc = {0};
    kan_param *params = (kan_param *)xmalloc(sizeof(kan_param) * m->nparams);
    size_t np = 0;
    char *abs;
    snprintf(init, sizeof init, "%s.init.safetensors", o->replay_log);
    read_back(w, o, 0);
    if (write_weights(w, init))
      return 1;
    abs = realpath(init, NULL);
    for (i = 0; i < m->nparams; ++i)
      if (m->params[i].stream >= 0) {
        params[np].name = m->params[i].name;
        params[np].stream = (uint32_t)m->params[i].stream;
        params[np].dtype = m->f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64;
        params[np].size = m->params[i].numel;
        params[np++].data = kan_tensor_map_find(w, m->params[i].name)->data;
      }
    oc.kind = m->rule_fg ? KAN_OPT_FG : KAN_OPT_TERNARY;
    oc.dist = KAN_DIST_SPARSE;
    oc.ndir = nd;
    oc.seed = o->seed;
    oc.lr = m->rule_fg ? m->update_scale * nd : m->update_scale;
    oc.density = m->density;
    if (m->rule_fg && oc.lr / nd != m->update_scale) {
      fprintf(stderr, "model_host: --replay-log: the fg step size %.17g is "
                      "not lr / %u of any lr\n", m->update_scale, nd);
      return 1;
    }
    if (kan_replay_writer_open(o->replay_log, &oc, abs ? abs : init, 0,
                               np, params, &writer) != KAN_OK) {
      fprintf(stderr, "model_host: %s\n", kan_last_error());
      return 1;
    }
    free(abs);
    free(params);
  }
  for (t = 0; t < o->steps; ++t) {
    double loss, lr_scale =
        lr_scale_at(o, o->schedule_steps
                           ? (double)t / (double)o->schedule_steps
                           : 0.0);
    /* Each chip draws its rows of the step's batch. */
    for (c = 0; c < nchips; ++c) {
      unsigned b, n = slice(o->batch, c, &b);
      data_io[KAN_IO_ROW0] = b;
      write_io_scaled(c, n, o->seed, t, lr_scale);
    }
    run_all(KAN_CMD_BATCH);
    sync_all(KAN_CMD_TRAIN, KAN_SYNC_READY);
    sync_all(0, KAN_SYNC_PARTIALS);
    memset(sum, 0, sizeof(double) * (1 + nd));
    for (c = 0; c < nchips; ++c) {
      CHECK(PL_ReadMemBlock(acc[c][0], (PL_Word *)part, m->addr_partials,
                            2u * (1 + nd)));
      for (i = 0; i <= nd; ++i)
        sum[i] += part[i];
    }
    loss = sum[0] / (double)o->batch;
    for (i = 0; i < nd; ++i)
      alpha[i] = sum[1 + i] / (double)o->batch;
    if (m->rule_fg)
      memcpy(coef, alpha, sizeof(double) * nd);
    else
      kan_ternary_coefficients(nd, alpha, coef);
    for (c = 0; c < nchips; ++c)
      CHECK(PL_WriteMemBlock(acc[c][0], (const PL_Word *)coef,
                             m->addr_coefficients, 2u * nd));
    sync_all(0, KAN_SYNC_PARTIALS);
    sync_all(-1, KAN_SYNC_READY);
    printf("step %u loss %.17g alpha0 %.17g\n", t, loss, alpha[0]);
    if (!isfinite(loss)) {
      fprintf(stderr, "model_host: the loss became %g at step %u\n", loss, t);
      rc = 1;
      break;
    }
    if (writer &&
        kan_replay_writer_append_scaled(writer, t, lr_scale, alpha) != KAN_OK) {
      fprintf(stderr, "model_host: %s; the log holds steps 0..%u and "
                      "replays\n", kan_last_error(), t ? t - 1u : 0u);
      rc = 1;
      break;
    }
    if (have_test && ((o->eval_every && (t + 1) % o->eval_every == 0) ||
                      t + 1 == o->steps))
      printf("step %u: test accuracy %.2f%% (%u samples, on the chips)\n",
             t + 1, 100.0 * evaluate_on_chips(&te, ctrl), te.rows);
    if (o->checkpoint && ((o->checkpoint_every &&
                           (t + 1) % o->checkpoint_every == 0) ||
                          t + 1 == o->steps)) {
      read_back(w, o, t + 1);
      if (write_weights(w, o->checkpoint))
        rc = 1;
    }
    fflush(stdout);
  }
  if (writer && kan_replay_writer_close(writer) != KAN_OK) {
    fprintf(stderr, "model_host: %s\n", kan_last_error());
    rc = 1;
  }
  if (o->save) {
    read_back(w, o, t);
    if (write_weights(w, o->save))
      rc = 1;
  }
#ifdef KAN_NMC_HOST_EMU
  {
    unsigned peak = 0;
    kan_nmc_emu_stats st;
    for (c = 0; c < nchips; ++c)
      if (kan_nmc_emu_get_stats(c, &st) == 0 && st.ddr_streams_max > peak)
        peak = st.ddr_streams_max;
    printf("model_host: DDR streams at once, most on one chip: %u (cap %u)\n",
           peak, kan_nmc_emu_ddr_cap());
  }
#endif
  kan_tensor_free(&tr.img);
  kan_tensor_free(&tr.lab);
  if (have_test) {
    kan_tensor_free(&te.img);
    kan_tensor_free(&te.lab);
  }
  free(part);
  free(sum);
  free(alpha);
  free(coef);
  return rc;
}

int main(int argc, char **argv) {
  const kan_nmc_launch_model *m = &kan_nmc_model;
  const char *weights = "weights.safetensors", *input = NULL, *output = NULL;
  const char *labels = NULL, *save = NULL, *save_input = NULL;
  unsigned steps = 0, count = 0, c, k, i;
  unsigned long long seed = 1234;
  kan_tensor_map w;
  kan_tensor x;
  data_opts dopt;
  /* The program's element type: weights, x and y in it (words each). */
  const kan_dtype dtype = m->f32 ? KAN_DTYPE_F32 : KAN_DTYPE_F64;
  const char *dname = m->f32 ? "f32" : "f64";
  const unsigned ew = m->f32 ? 1u : 2u;
  memset(&dopt, 0, sizeof dopt);
  dopt.schedule = "cosine";
  dopt.lr_final = 0.1;
  dopt.eval_every = 500;
  dopt.checkpoint_every = 1000;
  nchips = m->chips;
  ncores = m->cores;
  for (i = 1; i < (unsigned)argc; ++i) {
    const char *a = argv[i], *v = i + 1 < (unsigned)argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help")) usage_exit(0);
    if (!v) usage();
    if (!strcmp(a, "--chips")) nchips = (unsigned)atoi(v);
    else if (!strcmp(a, "--cores")) ncores = (unsigned)atoi(v);
    else if (!strcmp(a, "--weights")) weights = v;
    else if (!strcmp(a, "--input")) input = v;
    else if (!strcmp(a, "--output")) output = v;
    else if (!strcmp(a, "--train")) steps = (unsigned)atoi(v);
    else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--labels")) labels = v;
    else if (!strcmp(a, "--save")) save = v;
    else if (!strcmp(a, "--save-input")) save_input = v;
    else if (!strcmp(a, "--data")) dopt.dir = v;
    else if (!strcmp(a, "--batch")) dopt.batch = count_arg(a, v, 1);
    else if (!strcmp(a, "--eval-every")) dopt.eval_every = count_arg(a, v, 0);
    else if (!strcmp(a, "--checkpoint-every")) dopt.checkpoint_every = count_arg(a, v, 0);
    else if (!strcmp(a, "--checkpoint")) dopt.checkpoint = v;
    else if (!strcmp(a, "--replay-log")) dopt.replay_log = v;
    else if (!strcmp(a, "--lr-schedule")) dopt.schedule = v;
    else if (!strcmp(a, "--lr-final")) {
      char *end;
      dopt.lr_final = strtod(v, &end);
      if (!*v || *end)
        dopt.lr_final = -1; /* refused below */
    }
    else if (!strcmp(a, "--lr-schedule-steps")) dopt.schedule_steps = count_arg(a, v, 1);
    else usage();
    ++i;
  }
  if (dopt.dir) {
    if (!steps || input || output || labels) {
      fprintf(stderr, "model_host: --data needs --train STEPS and no "
                      "--input, --output or --labels\n");
      return 2;
    }
    if (strcmp(dopt.schedule, "cosine") && strcmp(dopt.schedule, "linear") &&
        strcmp(dopt.schedule, "constant")) {
      fprintf(stderr, "model_host: --lr-schedule must be cosine, linear or "
                      "constant, not '%s'\n", dopt.schedule);
      return 2;
    }
    if (!(dopt.lr_final >= 0 && dopt.lr_final <= 1)) {
      fprintf(stderr, "model_host: --lr-final must be in [0, 1]\n");
      return 2;
    }
    if (!dopt.batch)
      dopt.batch = m->batch * nchips < 128u ? m->batch * nchips : 128u;
    if (!dopt.schedule_steps)
      dopt.schedule_steps = steps;
    dopt.steps = steps;
    dopt.seed = seed;
    dopt.save = save;
  }
  if (steps && !m->train) {
    fprintf(stderr, "model_host: --train: this model was emitted without a "
                    "train step (kan-translate --train-step)\n");
    return 2;
  }
  CHECK(PL_GetBoardCount(&count));
  if (nchips < 1 || nchips > count || nchips > KAN_NMC_MAX_CHIPS || ncores < 1 ||
      ncores > KAN_NMC_CHIP_CORES) {
    fprintf(stderr, "model_host: want %u chips x %u cores, have %u chips\n",
            nchips, ncores, count);
    return 1;
  }
  if (kan_safetensors_read(weights, 0, &w) != KAN_OK) {
    fprintf(stderr, "model_host: cannot read %s\n", weights);
    return 1;
  }
  for (i = 0; i < m->nparams; ++i) {
    kan_tensor *p = kan_tensor_map_find(&w, m->params[i].name);
    if (!p || p->dtype != dtype || kan_tensor_numel(p) != m->params[i].numel) {
      fprintf(stderr, "model_host: %s: %s: missing or not %s of %u values\n",
              weights, m->params[i].name, dname, m->params[i].numel);
      return 1;
    }
  }
  if (dopt.dir) {
    size_t shape[2];
    shape[0] = 1;
    shape[1] = m->inputs;
    kan_tensor_alloc(&x, dtype, 2, shape);
  } else if (input) {
    if (kan_npy_read(input, 0, &x) != KAN_OK || x.ndim != 2 ||
        x.shape[1] != m->inputs || x.dtype != dtype) {
      fprintf(stderr, "model_host: %s: need N x %u %s\n", input, m->inputs,
              m->f32 ? "float32" : "float64");
      return 1;
    }
  } else {
    /* A deterministic batch in [-1, 1). */
    size_t shape[2];
    shape[0] = 16;
    shape[1] = m->inputs;
    kan_tensor_alloc(&x, dtype, 2, shape);
    for (i = 0; i < 16u * m->inputs; ++i) {
      double v = (double)((i * 2654435761u) % 2000u) / 1000.0 - 1.0;
      if (m->f32)
        ((float *)x.data)[i] = (float)v;
      else
        ((double *)x.data)[i] = v;
    }
  }
  if (save_input && kan_npy_write(save_input, &x) != KAN_OK)
    return 1;
  if (x.shape[0] > (size_t)nchips * m->batch) {
    fprintf(stderr, "model_host: %u rows exceed %u chips x %u rows\n",
            (unsigned)x.shape[0], nchips, m->batch);
    return 1;
  }
  CHECK(PL_SetTimeout(600000));
  for (c = 0; c < nchips; ++c) {
    CHECK(PL_GetBoardDesc(c, &board[c]));
    CHECK(PL_ResetBoard(board[c]));
    CHECK(PL_LoadInitCode(board[c]));
    for (k = 0; k < ncores; ++k) {
      PL_CoreNo no = kan_nmc_host_core_no((int)k);
      CHECK(PL_GetAccess(board[c], &no, &acc[c][k]));
    }
    CHECK(kan_nmc_host_init_chip(acc[c][0], m->ddr_streams));
    for (i = 0; i < m->nparams; ++i)
      CHECK(PL_WriteMemBlock(
          acc[c][0],
          (const PL_Word *)kan_tensor_map_find(&w, m->params[i].name)->data,
          m->params[i].addr, ew * m->params[i].numel));
    for (k = 0; k < ncores; ++k)
      CHECK(PL_LoadProgramFile(acc[c][k], m->core_program));
    for (k = 0; k < ncores; ++k)
      CHECK(PL_SyncArray(acc[c][k], (int)c, m->addr_io, KAN_IO_WORDS, NULL,
                         NULL, NULL));
  }
  /* The batch: chip c takes rows [b, b + n). */
  for (c = 0; c < nchips; ++c) {
    unsigned b, n = slice((unsigned)x.shape[0], c, &b);
    CHECK(PL_WriteMemBlock(acc[c][0],
                           (const PL_Word *)x.data + ew * b * m->inputs,
                           m->addr_x, ew * n * m->inputs));
    write_io(c, n, seed, 0);
  }
  if (output) {
    kan_tensor y;
    size_t shape[2];
    shape[0] = x.shape[0];
    shape[1] = m->outputs;
    kan_tensor_alloc(&y, dtype, 2, shape);
    sync_all(KAN_CMD_FORWARD, KAN_SYNC_READY);
    sync_all(-1, KAN_SYNC_READY); /* every core finished the forward pass */
    /* The cores wait for the next command; that sync is the one above's pair. */
    for (c = 0; c < nchips; ++c) {
      unsigned b, n = slice((unsigned)x.shape[0], c, &b);
      CHECK(PL_ReadMemBlock(acc[c][0], (PL_Word *)y.data + ew * b * m->outputs,
                            m->addr_y, ew * n * m->outputs));
    }
    if (kan_npy_write(output, &y) != KAN_OK) {
      fprintf(stderr, "model_host: cannot write %s\n", output);
      return 1;
    }
    printf("model_host: forward of %u rows on %u chip(s) x %u core(s) -> %s\n",
           (unsigned)x.shape[0], nchips, ncores, output);
    kan_tensor_free(&y);
  } else {
    sync_all(-1, KAN_SYNC_READY);
  }
  if (dopt.dir) {
    int rc = train_data(&dopt, &w);
    if (rc)
      return rc;
  } else if (steps &&
             train(steps, seed, (unsigned)x.shape[0], labels, save, &w)) {
    return 1;
  }
  /* Exit: the cores wait in their READY sync; answer it with EXIT. */
  for (c = 0; c < nchips; ++c)
    for (k = 0; k < ncores; ++k) {
      PL_Word status = 0, result = 1;
      int rv = -1, spins = 0;
      CHECK(PL_Sync(acc[c][k], KAN_CMD_EXIT, &rv));
      for (;;) {
        struct timespec ms = {0, 1000000L};
        CHECK(PL_GetStatus(acc[c][k], &status));
        if (status != PROGRAM_PROGRESS || ++spins > 20000)
          break;
        nanosleep(&ms, NULL);
      }
      CHECK(PL_GetResult(acc[c][k], &result));
      if (status != PROGRAM_FINISHED || result != 0) {
        fprintf(stderr, "model_host: chip %u core %u status %u result 0x%x\n",
                c, k, status, result);
        return 1;
      }
      CHECK(PL_CloseAccess(acc[c][k]));
    }
  for (c = 0; c < nchips; ++c)
    CHECK(PL_CloseBoardDesc(board[c]));
  kan_tensor_free(&x);
  kan_tensor_map_free(&w);
  return 0;
}
