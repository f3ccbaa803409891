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
#define KAN_IO_WORDS 64
/* Host commands (PL_Sync values) and core sync values. */
#define KAN_CMD_EXIT 0
#define KAN_CMD_FORWARD 1
#define KAN_CMD_TRAIN 2
#define KAN_SYNC_READY 0x4B41
#define KAN_SYNC_PARTIALS 0x4B42

/* A parameter the launcher loads from the weights file: f64 `numel`
 * values at DDR word `addr`. */
typedef struct kan_nmc_launch_param {
  const char *name;
  unsigned addr;
  unsigned numel;
} kan_nmc_launch_param;

typedef struct kan_nmc_launch_model {
  unsigned chips, cores, ddr_streams; /* defaults of --chips, --cores */
  unsigned batch;                     /* rows per chip per launch */
  unsigned inputs, outputs;
  unsigned nparams;
  const kan_nmc_launch_param *params;
  unsigned addr_io, addr_x, addr_y; /* addr_y: the last layer's output */
  /* With a train step (train != 0): */
  int train;
  unsigned directions;
  int loss_mse;  /* targets are f64 rows, else class indices */
  int rule_fg;   /* coefficients are the JVPs, else ternary */
  unsigned addr_target, addr_partials, addr_coefficients;
  const char *core_program; /* the .abs every core loads */
} kan_nmc_launch_model;

/* Defined by the emitted model_host.c. */
extern const kan_nmc_launch_model kan_nmc_model;

#endif /* KAN_NMC_LAUNCH_H */
