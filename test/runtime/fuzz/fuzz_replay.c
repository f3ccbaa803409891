/*===- fuzz_replay.c - libFuzzer target for the replay log reader -*- C -*-===*/
/* A log that reads is applied to parameters built from its own table (small ones only),
   so the checksum, torn-tail and hash paths all run. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kanrt/kanrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kan_replay_log log;
  size_t i, total = 0;
  if (kan_replay_read_memory(data, size, "fuzz.replay", &log) != KAN_OK)
    return 0;
  for (i = 0; i < log.nparams; ++i)
    total += log.params[i].size;
  if (total <= 4096 && log.nsteps * (size_t)log.config.ndir <= 4096) {
    kan_param *p = (kan_param *)calloc(log.nparams ? log.nparams : 1, sizeof *p);
    double *buf = (double *)calloc(total ? total : 1, sizeof *buf);
    size_t off = 0;
    if (p && buf) {
      for (i = 0; i < log.nparams; ++i) {
        p[i].name = log.params[i].name;
        p[i].stream = log.params[i].stream;
        p[i].dtype = log.params[i].dtype;
        p[i].size = log.params[i].size;
        p[i].data = buf + off; /* f32 uses the first half: in bounds */
        off += log.params[i].size;
      }
      (void)kan_replay_apply(&log, log.nparams, p);
    }
    free(p);
    free(buf);
  }
  kan_replay_log_free(&log);
  return 0;
}
