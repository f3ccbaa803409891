/*===- replay.c - replay log writer, reader and replay ----------*- C -*-===*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define RPL_MAGIC "KANRPLAY"
#define RPL_VERSION 2u
#define RPL_HEND 0x444E4548u
#define RPL_STEP 0x50455453u
#define RPL_MAX_NAME 4096u
#define RPL_MAX_PARAMS (1u << 16)

struct kan_replay_writer {
  FILE *f;
  char *path;
  uint32_t ndir;
  unsigned char *rec;
};

static uint64_t f64_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static double bits_f64(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

kan_status kan_replay_writer_open(const char *path,
                                  const kan_optim_config *cfg,
                                  const char *init_checkpoint, size_t nparams,
                                  const kan_param *params,
                                  kan_replay_writer **out) {
  kan_replay_writer *w;
  unsigned char *h, *q;
  /* magic, 5 x u32 (version kind dist ndir nparams), 3 x u64, path length,
     end marker */
  size_t hsize = 8 + 4 * 5 + 8 * 3 + 4 + 4, i, ilen;
  kan_status st = kan_optim_config_check(cfg);
  *out = NULL;
  if (st)
    return st;
  if (!init_checkpoint)
    init_checkpoint = "";
  ilen = strlen(init_checkpoint);
  if (ilen > RPL_MAX_NAME || nparams > RPL_MAX_PARAMS)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "%s: checkpoint path or parameter table too large",
                         path);
  hsize += ilen;
  for (i = 0; i < nparams; ++i) {
    if (!params[i].name || strlen(params[i].name) > RPL_MAX_NAME ||
        (params[i].dtype != KAN_DTYPE_F32 && params[i].dtype != KAN_DTYPE_F64))
      return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                           "%s: parameter %zu has no name, a too long name or "
                           "a non-float dtype",
                           path, i);
    hsize += 4 + strlen(params[i].name) + 4 + 4 + 8;
  }
  h = (unsigned char *)malloc(hsize);
  w = (kan_replay_writer *)calloc(1, sizeof *w);
  if (!h || !w) {
    free(h);
    free(w);
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  q = h;
  memcpy(q, RPL_MAGIC, 8), q += 8;
  kan_store_u32le(q, RPL_VERSION), q += 4;
  kan_store_u32le(q, (uint32_t)cfg->kind), q += 4;
  kan_store_u32le(q, (uint32_t)cfg->dist), q += 4;
  kan_store_u32le(q, cfg->ndir), q += 4;
  kan_store_u64le(q, cfg->seed), q += 8;
  kan_store_u64le(q, f64_bits(cfg->lr)), q += 8;
  kan_store_u64le(q, f64_bits(cfg->density)), q += 8;
  kan_store_u32le(q, (uint32_t)nparams), q += 4;
  kan_store_u32le(q, (uint32_t)ilen), q += 4;
  memcpy(q, init_checkpoint, ilen), q += ilen;
  for (i = 0; i < nparams; ++i) {
    const size_t nl = strlen(params[i].name);
    kan_store_u32le(q, (uint32_t)nl), q += 4;
    memcpy(q, params[i].name, nl), q += nl;
    kan_store_u32le(q, params[i].stream), q += 4;
    kan_store_u32le(q, (uint32_t)params[i].dtype), q += 4;
    kan_store_u64le(q, (uint64_t)params[i].size), q += 8;
  }
  kan_store_u32le(q, RPL_HEND), q += 4;
  w->ndir = cfg->ndir;
  w->rec = (unsigned char *)malloc(16 + 8 * (size_t)cfg->ndir);
  w->path = kan_strdup(path);
  w->f = fopen(path, "wb");
  if (!w->rec || !w->path || !w->f || fwrite(h, 1, hsize, w->f) != hsize ||
      fflush(w->f) != 0) {
    st = kan_set_error(w->f ? KAN_ERR_IO : KAN_ERR_IO,
                       "%s: cannot create replay log: %s", path,
                       strerror(errno));
    if (w->f)
      fclose(w->f);
    free(w->rec);
    free(w->path);
    free(w);
    free(h);
    return st;
  }
  free(h);
  *out = w;
  return KAN_OK;
}

kan_status kan_replay_writer_append(kan_replay_writer *w, uint32_t step,
                                    const double *jvp) {
  return kan_replay_writer_append_scaled(w, step, 1.0, jvp);
}

kan_status kan_replay_writer_append_scaled(kan_replay_writer *w,
                                           uint32_t step, double lr_scale,
                                           const double *jvp) {
  uint32_t i;
  const size_t n = 16 + 8 * (size_t)w->ndir;
  if (!(lr_scale >= 0) || lr_scale - lr_scale != 0)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "%s: step %u: lr_scale %g is not finite and >= 0",
                         w->path, (unsigned)step, lr_scale);
  kan_store_u32le(w->rec, RPL_STEP);
  kan_store_u32le(w->rec + 4, step);
  kan_store_u64le(w->rec + 8, f64_bits(lr_scale));
  for (i = 0; i < w->ndir; ++i)
    kan_store_u64le(w->rec + 16 + 8 * (size_t)i, f64_bits(jvp[i]));
  if (fwrite(w->rec, 1, n, w->f) != n || fflush(w->f) != 0)
    return kan_set_error(KAN_ERR_IO, "%s: cannot append step %u: %s", w->path,
                         (unsigned)step, strerror(errno));
  return KAN_OK;
}

kan_status kan_replay_writer_close(kan_replay_writer *w) {
  kan_status st = KAN_OK;
  if (!w)
    return KAN_OK;
  if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
    st = kan_set_error(KAN_ERR_IO, "%s: cannot sync: %s", w->path,
                       strerror(errno));
  if (fclose(w->f) != 0 && !st)
    st = kan_set_error(KAN_ERR_IO, "%s: cannot close: %s", w->path,
                       strerror(errno));
  free(w->rec);
  free(w->path);
  free(w);
  return st;
}

void kan_replay_log_free(kan_replay_log *log) {
  size_t i;
  if (!log)
    return;
  for (i = 0; i < log->nparams; ++i)
    free(log->params[i].name);
  free(log->params);
  free(log->init_checkpoint);
  free(log->steps);
  free(log->jvp);
  free(log->lr_scale);
  memset(log, 0, sizeof *log);
}

typedef struct {
  const unsigned char *p;
  size_t left;
} rd;

static int take(rd *r, size_t n, const unsigned char **out) {
  if (r->left < n)
    return 0;
  *out = r->p;
  r->p += n;
  r->left -= n;
  return 1;
}

kan_status kan_replay_read(const char *path, kan_replay_log *log) {
  unsigned char *buf;
  size_t size, i, recsize, head;
  const unsigned char *q;
  rd r;
  uint32_t ilen, np, version;
  kan_status st;
  memset(log, 0, sizeof *log);
  st = kan_read_file(path, &buf, &size);
  if (st)
    return st;
  r.p = buf;
  r.left = size;
#define NEED(n, what)                                                          \
  do {                                                                         \
    if (!take(&r, (n), &q)) {                                                  \
      st = kan_set_error(KAN_ERR_FORMAT, "%s: truncated header (%s)", path,    \
                         what);                                                \
      goto fail;                                                               \
    }                                                                          \
  } while (0)
  NEED(8 + 4, "magic");
  if (memcmp(q, RPL_MAGIC, 8) != 0) {
    st = kan_set_error(KAN_ERR_FORMAT, "%s: not a replay log (bad magic)",
                       path);
    goto fail;
  }
  version = kan_load_u32le(q + 8);
  if (version != 1 && version != RPL_VERSION) {
    st = kan_set_error(KAN_ERR_UNSUPPORTED,
                       "%s: unsupported replay log version %u", path,
                       (unsigned)kan_load_u32le(q + 8));
    goto fail;
  }
  NEED(4 * 3 + 8 * 3 + 4 + 4, "configuration");
  log->config.kind = (int)kan_load_u32le(q);
  log->config.dist = (int)kan_load_u32le(q + 4);
  log->config.ndir = kan_load_u32le(q + 8);
  log->config.seed = kan_load_u64le(q + 12);
  log->config.lr = bits_f64(kan_load_u64le(q + 20));
  log->config.density = bits_f64(kan_load_u64le(q + 28));
  np = kan_load_u32le(q + 36);
  ilen = kan_load_u32le(q + 40);
  if ((st = kan_optim_config_check(&log->config))) {
    st = kan_set_error(KAN_ERR_FORMAT, "%s: invalid optimiser configuration",
                       path);
    goto fail;
  }
  if (np > RPL_MAX_PARAMS || ilen > RPL_MAX_NAME) {
    st = kan_set_error(KAN_ERR_FORMAT,
                       "%s: absurd parameter count %u or path length %u",
                       path, (unsigned)np, (unsigned)ilen);
    goto fail;
  }
  NEED(ilen, "checkpoint path");
  log->init_checkpoint = (char *)malloc(ilen + 1);
  log->params = (kan_replay_param *)calloc(np ? np : 1, sizeof *log->params);
  if (!log->init_checkpoint || !log->params) {
    st = kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    goto fail;
  }
  memcpy(log->init_checkpoint, q, ilen);
  log->init_checkpoint[ilen] = '\0';
  for (i = 0; i < np; ++i) {
    uint32_t nl, dt;
    NEED(4, "parameter name length");
    nl = kan_load_u32le(q);
    if (nl == 0 || nl > RPL_MAX_NAME) {
      st = kan_set_error(KAN_ERR_FORMAT,
                         "%s: parameter %zu name length %u is invalid", path,
                         i, (unsigned)nl);
      goto fail;
    }
    NEED(nl + 16, "parameter entry");
    log->params[i].name = (char *)malloc(nl + 1);
    if (!log->params[i].name) {
      st = kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
      goto fail;
    }
    log->nparams = i + 1;
    memcpy(log->params[i].name, q, nl);
    log->params[i].name[nl] = '\0';
    log->params[i].stream = kan_load_u32le(q + nl);
    dt = kan_load_u32le(q + nl + 4);
    if (dt != KAN_DTYPE_F32 && dt != KAN_DTYPE_F64) {
      st = kan_set_error(KAN_ERR_FORMAT,
                         "%s: parameter '%s' has invalid dtype %u", path,
                         log->params[i].name, (unsigned)dt);
      goto fail;
    }
    log->params[i].dtype = (kan_dtype)dt;
    if (kan_load_u64le(q + nl + 8) > (uint64_t)SIZE_MAX) {
      st = kan_set_error(KAN_ERR_FORMAT, "%s: parameter size overflows",
                         path);
      goto fail;
    }
    log->params[i].size = (size_t)kan_load_u64le(q + nl + 8);
  }
  NEED(4, "end marker");
  if (kan_load_u32le(q) != RPL_HEND) {
    st = kan_set_error(KAN_ERR_FORMAT, "%s: header end marker missing", path);
    goto fail;
  }
#undef NEED
  /* Version 1 records have no lr_scale. */
  head = version == 1 ? 8 : 16;
  recsize = head + 8 * (size_t)log->config.ndir;
  if (r.left % recsize != 0) {
    st = kan_set_error(KAN_ERR_FORMAT,
                       "%s: truncated step record %zu (%zu of %zu bytes)",
                       path, r.left / recsize, r.left % recsize, recsize);
    goto fail;
  }
  log->nsteps = r.left / recsize;
  log->steps = (uint32_t *)malloc((log->nsteps ? log->nsteps : 1) *
                                  sizeof *log->steps);
  log->jvp = (double *)malloc((log->nsteps ? log->nsteps : 1) *
                              log->config.ndir * sizeof *log->jvp);
  log->lr_scale = (double *)malloc((log->nsteps ? log->nsteps : 1) *
                                   sizeof *log->lr_scale);
  if (!log->steps || !log->jvp || !log->lr_scale) {
    st = kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    goto fail;
  }
  for (i = 0; i < log->nsteps; ++i) {
    uint32_t d;
    take(&r, recsize, &q);
    if (kan_load_u32le(q) != RPL_STEP) {
      st = kan_set_error(KAN_ERR_FORMAT,
                         "%s: step record %zu has a bad tag", path, i);
      goto fail;
    }
    log->steps[i] = kan_load_u32le(q + 4);
    log->lr_scale[i] = head == 8 ? 1.0 : bits_f64(kan_load_u64le(q + 8));
    if (!(log->lr_scale[i] >= 0) || log->lr_scale[i] - log->lr_scale[i] != 0) {
      st = kan_set_error(KAN_ERR_FORMAT,
                         "%s: step record %zu has an invalid lr_scale %g",
                         path, i, log->lr_scale[i]);
      goto fail;
    }
    for (d = 0; d < log->config.ndir; ++d)
      log->jvp[i * log->config.ndir + d] =
          bits_f64(kan_load_u64le(q + head + 8 * (size_t)d));
  }
  free(buf);
  return KAN_OK;
fail:
  free(buf);
  kan_replay_log_free(log);
  return st;
}

kan_status kan_replay_apply(const kan_replay_log *log, size_t nparams,
                            const kan_param *params) {
  kan_param *ordered;
  size_t i, j;
  kan_status st = KAN_OK;
  if (nparams != log->nparams)
    return kan_set_error(KAN_ERR_MISMATCH,
                         "replay: log has %zu parameters, caller gave %zu",
                         log->nparams, nparams);
  ordered = (kan_param *)malloc((nparams ? nparams : 1) * sizeof *ordered);
  if (!ordered)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "replay: out of memory");
  for (i = 0; i < nparams; ++i) {
    const kan_replay_param *lp = &log->params[i];
    for (j = 0; j < nparams; ++j)
      if (params[j].name && strcmp(params[j].name, lp->name) == 0)
        break;
    if (j == nparams) {
      free(ordered);
      return kan_set_error(KAN_ERR_NOT_FOUND,
                           "replay: parameter '%s' of the log not given",
                           lp->name);
    }
    if (params[j].stream != lp->stream || params[j].dtype != lp->dtype ||
        params[j].size != lp->size) {
      free(ordered);
      return kan_set_error(KAN_ERR_MISMATCH,
                           "replay: parameter '%s' differs from the log in "
                           "stream, dtype or size",
                           lp->name);
    }
    ordered[i] = params[j];
  }
  for (i = 0; i < log->nsteps && !st; ++i)
    st = kan_optimizer_step_scaled(&log->config, log->steps[i],
                                   log->jvp + i * log->config.ndir,
                                   log->lr_scale ? log->lr_scale[i] : 1.0,
                                   nparams, ordered);
  free(ordered);
  return st;
}
