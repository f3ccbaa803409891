/*===- kan_nmc_launch.h - host/core protocol of an emitted NM Quad model -===*
 *
 * The io block, the host's commands and the cores' sync values an emitted
 * model_core.c and the host launcher (share/kanrt/nmc/programs/
 * kan_nmc_launcher.c) agree on, and the description of a model the
 * emitted model_host.c gives the launcher: its schedule, parameter table
 * and DDR addresses (model_params.h). Plain C89 declarations usable by
 * host and core code.
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_LAUNCH_H
#define KAN_NMC_LAUNCH_H

/* Words of the io block. */
#define KAN_IO_ROWS 0
#define KAN_IO_CORES 1
#define KAN_IO_SEED_LO 2
#define KAN_IO_SEED_HI 3
#define KAN_IO_STEP 4
/* The step-size factor of a learning-rate schedule: an f64 in words 6-7
 * (even, as doubles are on NMC); 0 reads as 1. */
#define KAN_IO_LR_SCALE 6
/* Training on data held in chip DDR (KAN_CMD_BATCH, KAN_CMD_TEST_ROWS,
 * KAN_CMD_SCORE; the launcher's --data): word addresses and counts. Images
 * are unsigned bytes packed four to a word (byte j of a row in bits
 * 8 (j % 4) of word j / 4; a row starts on a word), labels one per word. */
#define KAN_IO_DATA 8        /* training images */
#define KAN_IO_DATA_ROWS 9   /* training samples N */
#define KAN_IO_DATA_LABELS 10
#define KAN_IO_DATA_CTRL 11  /* data control block, KAN_DATA_CTRL_* */
#define KAN_IO_BATCH 12      /* rows of a whole step (every chip's) */
#define KAN_IO_ROW0 13       /* this chip's first position in the step */
#define KAN_IO_TEST 14       /* test images */
#define KAN_IO_TEST_LABELS 15
#define KAN_IO_TEST_ROW0 16  /* first test sample of this chip's rows */
#define KAN_IO_WORDS 64
/* The data control block: the epochs whose permutations the two slots
 * hold (epoch + 1, 0: none), one correct-answer counter per core, then the
 * two permutations of N words each. The host zeroes it once. */
#define KAN_DATA_CTRL_EPOCH 0 /* 2 words */
#define KAN_DATA_CTRL_CORRECT 4 /* 16 words */
#define KAN_DATA_CTRL_PERM 32
#define KAN_DATA_CTRL_WORDS(n) (KAN_DATA_CTRL_PERM + 2u * (n))
/* Words of a packed image row of `inputs` bytes. */
#define KAN_DATA_ROW_WORDS(inputs) (((inputs) + 3u) / 4u)
/* Host commands (PL_Sync values) and core sync values. */
#define KAN_CMD_EXIT 0
#define KAN_CMD_FORWARD 1
#define KAN_CMD_TRAIN 2
#define KAN_CMD_BATCH 3     /* draw the step's batch into x and target */
#define KAN_CMD_TEST_ROWS 4 /* test rows into x */
#define KAN_CMD_SCORE 5     /* count correct argmaxes of the last forward */
#define KAN_SYNC_READY 0x4B41
#define KAN_SYNC_PARTIALS 0x4B42

/* A parameter the launcher loads from the weights file: f64 `numel`
 * values at DDR word `addr`. */
typedef struct kan_nmc_launch_param {
  const char *name;
  unsigned addr;
  unsigned numel;
  int stream; /* perturbation stream of a trained parameter, else -1 */
} kan_nmc_launch_param;

typedef struct kan_nmc_launch_model {
  unsigned chips, cores, ddr_streams; /* defaults of --chips, --cores */
  unsigned batch;                     /* rows per chip per launch */
  unsigned inputs, outputs;
  int f32;           /* model values are f32 (one word), else f64 (two) */
  unsigned nparams;
  const kan_nmc_launch_param *params;
  unsigned addr_io, addr_x, addr_y; /* addr_y: the last layer's output */
  /* With a train step (train != 0): */
  int train;
  unsigned directions;
  int loss_mse;  /* targets are f64 rows, else class indices */
  int rule_fg;   /* coefficients are the JVPs, else ternary */
  unsigned addr_target, addr_partials, addr_coefficients;
  double update_scale, density; /* of kan.update: lr (fg: lr / n), draws */
  unsigned ddr_end;         /* first DDR word after the model's map */
  const char *core_program; /* the .abs every core loads */
} kan_nmc_launch_model;

/* Defined by the emitted model_host.c. */
extern const kan_nmc_launch_model kan_nmc_model;

#endif /* KAN_NMC_LAUNCH_H */
