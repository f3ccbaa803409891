/*===- kan_nmc_launcher.c - host launcher of an emitted NM Quad model ----===*
 *
 * The PL_* launcher every emitted folder builds as model_host (board) or
 * links into model_emu (host emulation): weights, batches and results move
 * through each chip's DDR; chips take contiguous batch slices; train steps
 * sum the chips' JVP partials and send back the update coefficients. What
 * varies with the model comes from kan_nmc_model (the folder's
 * model_host.c, kan_nmc_launch.h).
 *===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L
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

static void write_io(unsigned chip, unsigned rows, unsigned long long seed,
                     unsigned step) {
  PL_Word io[KAN_IO_WORDS];
  memset(io, 0, sizeof io);
  io[KAN_IO_ROWS] = rows;
  io[KAN_IO_CORES] = ncores;
  io[KAN_IO_SEED_LO] = (PL_Word)(seed & 0xFFFFFFFFu);
  io[KAN_IO_SEED_HI] = (PL_Word)(seed >> 32);
  io[KAN_IO_STEP] = step;
  CHECK(PL_WriteMemBlock(acc[chip][0], io, kan_nmc_model.addr_io, KAN_IO_WORDS));
}

static unsigned slice(unsigned n, unsigned chip, unsigned *begin) {
  *begin = chip * n / nchips;
  return (chip + 1) * n / nchips - *begin;
}

static void usage(void) {
  fprintf(stderr, "usage: model_emu [--chips C] [--cores K] [--weights W.safetensors]\n"
                  "  [--input x.npy --output y.npy] [--train STEPS --seed S\n"
                  "  --labels l.npy --save out.safetensors]\n");
  exit(2);
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
    double *tg = (double *)xmalloc(sizeof(double) * n * m->outputs);
    for (i = 0; i < n * m->outputs; ++i)
      tg[i] = lab ? ((double *)lab->data)[b * m->outputs + i]
                  : (double)((b * m->outputs + i) % 7u) / 7.0;
    CHECK(PL_WriteMemBlock(acc[c][0], (const PL_Word *)tg, m->addr_target,
                           2u * n * m->outputs));
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
      CHECK(PL_ReadMemBlock(acc[0][0],
                            (PL_Word *)kan_tensor_map_find(w, m->params[i].name)->data,
                            m->params[i].addr, 2u * m->params[i].numel));
    if (kan_safetensors_write(save, w) != KAN_OK) {
      fprintf(stderr, "model_host: cannot write %s\n", save);
      return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  const kan_nmc_launch_model *m = &kan_nmc_model;
  const char *weights = "weights.safetensors", *input = NULL, *output = NULL;
  const char *labels = NULL, *save = NULL, *save_input = NULL;
  unsigned steps = 0, count = 0, c, k, i;
  unsigned long long seed = 1234;
  kan_tensor_map w;
  kan_tensor x;
  nchips = m->chips;
  ncores = m->cores;
  for (i = 1; i < (unsigned)argc; ++i) {
    const char *a = argv[i], *v = i + 1 < (unsigned)argc ? argv[i + 1] : NULL;
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
    else usage();
    ++i;
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
    if (!p || p->dtype != KAN_DTYPE_F64 || kan_tensor_numel(p) != m->params[i].numel) {
      fprintf(stderr, "model_host: %s: missing or not f64 of %u values\n",
              m->params[i].name, m->params[i].numel);
      return 1;
    }
  }
  if (input) {
    if (kan_npy_read(input, 0, &x) != KAN_OK || x.ndim != 2 ||
        x.shape[1] != m->inputs || x.dtype != KAN_DTYPE_F64) {
      fprintf(stderr, "model_host: %s: need N x %u float64\n", input, m->inputs);
      return 1;
    }
  } else {
    /* A deterministic batch in [-1, 1). */
    size_t shape[2];
    shape[0] = 16;
    shape[1] = m->inputs;
    kan_tensor_alloc(&x, KAN_DTYPE_F64, 2, shape);
    for (i = 0; i < 16u * m->inputs; ++i)
      ((double *)x.data)[i] = (double)((i * 2654435761u) % 2000u) / 1000.0 - 1.0;
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
      CHECK(PL_WriteMemBlock(acc[c][0],
                             (const PL_Word *)kan_tensor_map_find(&w, m->params[i].name)->data,
                             m->params[i].addr, 2u * m->params[i].numel));
    for (k = 0; k < ncores; ++k)
      CHECK(PL_LoadProgramFile(acc[c][k], m->core_program));
    for (k = 0; k < ncores; ++k)
      CHECK(PL_SyncArray(acc[c][k], (int)c, m->addr_io, KAN_IO_WORDS, NULL,
                         NULL, NULL));
  }
  /* The batch: chip c takes rows [b, b + n). */
  for (c = 0; c < nchips; ++c) {
    unsigned b, n = slice((unsigned)x.shape[0], c, &b);
    CHECK(PL_WriteMemBlock(acc[c][0], (const PL_Word *)x.data + 2u * b * m->inputs,
                           m->addr_x, 2u * n * m->inputs));
    write_io(c, n, seed, 0);
  }
  if (output) {
    kan_tensor y;
    size_t shape[2];
    shape[0] = x.shape[0];
    shape[1] = m->outputs;
    kan_tensor_alloc(&y, KAN_DTYPE_F64, 2, shape);
    sync_all(KAN_CMD_FORWARD, KAN_SYNC_READY);
    sync_all(-1, KAN_SYNC_READY); /* every core finished the forward pass */
    /* The cores wait for the next command; that sync is the one above's pair. */
    for (c = 0; c < nchips; ++c) {
      unsigned b, n = slice((unsigned)x.shape[0], c, &b);
      CHECK(PL_ReadMemBlock(acc[c][0], (PL_Word *)y.data + 2u * b * m->outputs,
                            m->addr_y, 2u * n * m->outputs));
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
  if (steps && train(steps, seed, (unsigned)x.shape[0], labels, save, &w))
    return 1;
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
