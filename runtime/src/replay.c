/*===- replay.c - replay log writer, reader and replay ----------*- C -*-===*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

#define RPL_MAGIC "KANRPLAY"
#define RPL_VERSION 5u
/* Logs of normal directions from before the runtime computed its own
   log/sin/cos (exact across machines) replay to different last bits. */
#define RPL_FIRST_OWN_NORMALS 5u
#define RPL_HEND 0x444E4548u
#define RPL_STEP 0x50455453u
#define RPL_MAX_NAME 4096u
#define RPL_MAX_PARAMS (1u << 16)
/* Version 3 record: tag, step, lr_scale, ndir JVP scalars, CRC-32. */
#define RPL_REC_SIZE(ndir) (16 + 8 * (size_t)(ndir) + 4)

struct kan_replay_writer {
  int fd;
  char *path;
  uint32_t ndir;
  unsigned char *rec;
  /* Bytes of whole records and header on disk; a failed append cuts the
     file back to this size. */
  off_t good;
  /* Set by a failed append: the log ends there. */
  int failed;
  /* Header bytes: where the first record starts. */
  off_t header;
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

/* SHA-256 (FIPS 180-4) of the initial weights, so a log names its starting
   point by content and not only by path. */
typedef struct {
  uint32_t h[8];
  unsigned char buf[64];
  size_t nbuf;
  uint64_t bytes;
} sha256_ctx;

static const uint32_t sha256_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu,
    0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u,
    0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u,
    0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu,
    0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u,
    0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
    0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u,
    0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u, 0x1e376c08u,
    0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu,
    0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256_ctx *c, const unsigned char *p) {
  uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
  int i;
  for (i = 0; i < 16; ++i)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
           (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
  for (i = 16; i < 64; ++i) {
    uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
  e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
  for (i = 0; i < 64; ++i) {
    t1 = h + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) +
         sha256_k[i] + w[i];
    t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) +
         ((a & b) ^ (a & cc) ^ (b & cc));
    h = g, g = f, f = e, e = d + t1;
    d = cc, cc = b, b = a, a = t1 + t2;
  }
  c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d;
  c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

static void sha256_init(sha256_ctx *c) {
  static const uint32_t h0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u,
                                 0xa54ff53au, 0x510e527fu, 0x9b05688cu,
                                 0x1f83d9abu, 0x5be0cd19u};
  memcpy(c->h, h0, sizeof h0);
  c->nbuf = 0;
  c->bytes = 0;
}

static void sha256_update(sha256_ctx *c, const void *data, size_t n) {
  const unsigned char *p = (const unsigned char *)data;
  c->bytes += n;
  if (c->nbuf) {
    size_t k = 64 - c->nbuf < n ? 64 - c->nbuf : n;
    memcpy(c->buf + c->nbuf, p, k);
    c->nbuf += k, p += k, n -= k;
    if (c->nbuf < 64)
      return;
    sha256_block(c, c->buf);
    c->nbuf = 0;
  }
  for (; n >= 64; p += 64, n -= 64)
    sha256_block(c, p);
  memcpy(c->buf, p, n);
  c->nbuf = n;
}

static void sha256_final(sha256_ctx *c, unsigned char out[32]) {
  const uint64_t bits = c->bytes * 8;
  unsigned char pad[72];
  size_t npad = (c->nbuf < 56 ? 56 : 120) - c->nbuf, i;
  memset(pad, 0, sizeof pad);
  pad[0] = 0x80;
  for (i = 0; i < 8; ++i)
    pad[npad + i] = (unsigned char)(bits >> (56 - 8 * i));
  sha256_update(c, pad, npad + 8);
  for (i = 0; i < 8; ++i) {
    out[4 * i] = (unsigned char)(c->h[i] >> 24);
    out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
    out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
    out[4 * i + 3] = (unsigned char)c->h[i];
  }
}

void kan_weights_sha256(size_t nparams, const kan_param *params,
                        unsigned char out[32]) {
  sha256_ctx c;
  size_t i;
  sha256_init(&c);
  for (i = 0; i < nparams; ++i)
    if (params[i].size)
      sha256_update(&c, params[i].data,
                    params[i].size * kan_dtype_size(params[i].dtype));
  sha256_final(&c, out);
}

static uint32_t crc_of(const unsigned char *p, size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  /* zlib takes uInt lengths; headers and records are far below 4 GiB. */
  return (uint32_t)crc32(c, p, (uInt)n);
}

/* write(2) until done; returns 0 or the errno of the failure. */
static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (k == 0)
      return EIO;
    p += k, n -= (size_t)k;
  }
  return 0;
}

kan_status kan_replay_writer_open(const char *path,
                                  const kan_optim_config *cfg,
                                  const char *init_checkpoint,
                                  uint32_t start_step, size_t nparams,
                                  const kan_param *params,
                                  kan_replay_writer **out) {
  kan_replay_writer *w;
  unsigned char *h, *q;
  /* magic, 5 x u32 (version kind dist ndir nparams), 3 x u64, path length,
     start step, SHA-256, end marker, header CRC */
  size_t hsize = 8 + 4 * 5 + 8 * 3 + 4 + 4 + 32 + 4 + 4, i, ilen;
  kan_status st = kan_optim_config_check(cfg);
  int err;
  /* Plain SGD logs of fg and ternary stay version 3 (older readers take
     them); momentum, Adam and the activity rule need version 4; normal
     directions version 5 (the draws older readers make differ). */
  const uint32_t version =
      cfg->dist == KAN_DIST_NORMAL
          ? RPL_FIRST_OWN_NORMALS
          : (cfg->method != KAN_METHOD_SGD || cfg->kind == KAN_OPT_ACTIVITY
                 ? 4u
                 : 3u);
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
  hsize += ilen + (version >= 4 ? 4 + 8 * 3 : 0);
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
  kan_store_u32le(q, version), q += 4;
  kan_store_u32le(q, (uint32_t)cfg->kind), q += 4;
  kan_store_u32le(q, (uint32_t)cfg->dist), q += 4;
  kan_store_u32le(q, cfg->ndir), q += 4;
  kan_store_u64le(q, cfg->seed), q += 8;
  kan_store_u64le(q, f64_bits(cfg->lr)), q += 8;
  kan_store_u64le(q, f64_bits(cfg->density)), q += 8;
  if (version >= 4) {
    kan_store_u32le(q, (uint32_t)cfg->method), q += 4;
    kan_store_u64le(q, f64_bits(cfg->beta1)), q += 8;
    kan_store_u64le(q, f64_bits(cfg->beta2)), q += 8;
    kan_store_u64le(q, f64_bits(cfg->eps)), q += 8;
  }
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
  kan_store_u32le(q, start_step), q += 4;
  kan_weights_sha256(nparams, params, q), q += 32;
  kan_store_u32le(q, RPL_HEND), q += 4;
  kan_store_u32le(q, crc_of(h, (size_t)(q - h))), q += 4;
  w->ndir = cfg->ndir;
  w->rec = (unsigned char *)malloc(RPL_REC_SIZE(cfg->ndir));
  w->path = kan_strdup(path);
  w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  err = w->fd < 0 ? errno : 0;
  if (!err && (!w->rec || !w->path))
    err = ENOMEM;
  if (!err)
    err = write_all(w->fd, h, hsize);
  if (err) {
    st = kan_set_error(KAN_ERR_IO, "%s: cannot create replay log: %s", path,
                       strerror(err));
    if (w->fd >= 0) {
      close(w->fd);
      remove(path);
    }
    free(w->rec);
    free(w->path);
    free(w);
    free(h);
    return st;
  }
  w->good = w->header = (off_t)hsize;
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
  const size_t n = RPL_REC_SIZE(w->ndir);
  int err;
  if (w->failed)
    return kan_set_error(KAN_ERR_IO,
                         "%s: an earlier append failed; the log ends there",
                         w->path);
  if (!(lr_scale >= 0) || lr_scale - lr_scale != 0)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "%s: step %u: lr_scale %g is not finite and >= 0",
                         w->path, (unsigned)step, lr_scale);
  kan_store_u32le(w->rec, RPL_STEP);
  kan_store_u32le(w->rec + 4, step);
  kan_store_u64le(w->rec + 8, f64_bits(lr_scale));
  for (i = 0; i < w->ndir; ++i)
    kan_store_u64le(w->rec + 16 + 8 * (size_t)i, f64_bits(jvp[i]));
  kan_store_u32le(w->rec + n - 4, crc_of(w->rec, n - 4));
  err = write_all(w->fd, w->rec, n);
  if (err) {
    /* Cut off what reached the file of this record, so the log ends with a
       whole record (the reader would also ignore a torn tail). */
    w->failed = 1;
    if (ftruncate(w->fd, w->good) == 0)
      (void)lseek(w->fd, w->good, SEEK_SET);
    return kan_set_error(KAN_ERR_IO, "%s: cannot append step %u: %s", w->path,
                         (unsigned)step, strerror(err));
  }
  w->good += (off_t)n;
  return KAN_OK;
}

uint64_t kan_replay_writer_records(const kan_replay_writer *w) {
  return (uint64_t)(w->good - w->header) / RPL_REC_SIZE(w->ndir);
}

kan_status kan_replay_writer_truncate(kan_replay_writer *w,
                                      uint64_t nrecords) {
  off_t at;
  if (nrecords > kan_replay_writer_records(w))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "%s: cannot keep %llu records of %llu", w->path,
                         (unsigned long long)nrecords,
                         (unsigned long long)kan_replay_writer_records(w));
  at = w->header + (off_t)(nrecords * RPL_REC_SIZE(w->ndir));
  if (ftruncate(w->fd, at) != 0 || lseek(w->fd, at, SEEK_SET) != at)
    return kan_set_error(KAN_ERR_IO, "%s: cannot cut the log back to %llu "
                         "records: %s", w->path, (unsigned long long)nrecords,
                         strerror(errno));
  w->good = at;
  return KAN_OK;
}

kan_status kan_replay_writer_close(kan_replay_writer *w) {
  kan_status st = KAN_OK;
  if (!w)
    return KAN_OK;
  if (fsync(w->fd) != 0)
    st = kan_set_error(KAN_ERR_IO, "%s: cannot sync: %s", w->path,
                       strerror(errno));
  if (close(w->fd) != 0 && !st)
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

/* A whole record that carries its tag and (version 3) its checksum. */
static int record_intact(const unsigned char *q, size_t recsize,
                         uint32_t version) {
  if (kan_load_u32le(q) != RPL_STEP)
    return 0;
  return version < 3 ||
         kan_load_u32le(q + recsize - 4) == crc_of(q, recsize - 4);
}

kan_status kan_replay_read(const char *path, kan_replay_log *log) {
  unsigned char *buf;
  size_t size;
  kan_status st;
  memset(log, 0, sizeof *log);
  st = kan_read_file(path, &buf, &size);
  if (st)
    return st;
  st = kan_replay_read_memory(buf, size, path, log);
  free(buf);
  return st;
}

kan_status kan_replay_read_memory(const void *data, size_t size,
                                  const char *path, kan_replay_log *log) {
  const unsigned char *buf = (const unsigned char *)data;
  size_t i, recsize, head, nwhole;
  const unsigned char *q;
  rd r;
  uint32_t ilen, np, version;
  kan_status st;
  memset(log, 0, sizeof *log);
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
  if (version < 1 || version > RPL_VERSION) {
    st = kan_set_error(KAN_ERR_UNSUPPORTED,
                       "%s: unsupported replay log version %u", path,
                       (unsigned)version);
    goto fail;
  }
  log->version = version;
  NEED(4 * 3 + 8 * 3 + 4 + 4, "configuration");
  log->config.kind = (int)kan_load_u32le(q);
  log->config.dist = (int)kan_load_u32le(q + 4);
  log->config.ndir = kan_load_u32le(q + 8);
  log->config.seed = kan_load_u64le(q + 12);
  log->config.lr = bits_f64(kan_load_u64le(q + 20));
  log->config.density = bits_f64(kan_load_u64le(q + 28));
  np = kan_load_u32le(q + 36);
  ilen = kan_load_u32le(q + 40);
  if (version >= 4) {
    /* method and its constants sit between density and nparams */
    const unsigned char *q0 = q;
    NEED(4 + 8 * 3, "optimiser method");
    log->config.method = (int)kan_load_u32le(q0 + 36);
    log->config.beta1 = bits_f64(kan_load_u64le(q0 + 40));
    log->config.beta2 = bits_f64(kan_load_u64le(q0 + 48));
    log->config.eps = bits_f64(kan_load_u64le(q0 + 56));
    np = kan_load_u32le(q0 + 64);
    ilen = kan_load_u32le(q0 + 68);
  }
  if (log->config.dist == KAN_DIST_NORMAL &&
      version < RPL_FIRST_OWN_NORMALS) {
    st = kan_set_error(
        KAN_ERR_UNSUPPORTED,
        "%s: replay log version %u of normal directions: it was written with "
        "the C library's log/sin/cos, whose last bits this runtime's normal "
        "draws no longer match, so a replay would not reproduce the run; "
        "replay it with the build that wrote it",
        path, (unsigned)version);
    goto fail;
  }
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
  if (version >= 3) {
    NEED(4 + 32, "start step and weights hash");
    log->start_step = kan_load_u32le(q);
    memcpy(log->weights_sha256, q + 4, 32);
    log->has_weights_sha256 = 1;
  }
  NEED(4, "end marker");
  if (kan_load_u32le(q) != RPL_HEND) {
    st = kan_set_error(KAN_ERR_FORMAT, "%s: header end marker missing", path);
    goto fail;
  }
  if (version >= 3) {
    const size_t hlen = (size_t)(r.p - buf);
    NEED(4, "header checksum");
    if (kan_load_u32le(q) != crc_of(buf, hlen)) {
      st = kan_set_error(KAN_ERR_FORMAT, "%s: header checksum mismatch",
                         path);
      goto fail;
    }
  }
#undef NEED
  /* Version 1 records have no lr_scale, versions 1 and 2 no checksum. */
  head = version == 1 ? 8 : 16;
  recsize = version >= 3 ? RPL_REC_SIZE(log->config.ndir)
                         : head + 8 * (size_t)log->config.ndir;
  /* Records up to the first damaged or partial one are kept. Damage followed
     only by more damage is a torn tail (a crash or a full disk mid-append)
     and is dropped; an intact record after a damaged one means the log was
     corrupted in place, which is an error. */
  nwhole = r.left / recsize;
  for (i = 0; i < nwhole && record_intact(r.p + i * recsize, recsize, version);
       ++i)
    ;
  log->nsteps = i;
  for (++i; i < nwhole; ++i)
    if (record_intact(r.p + i * recsize, recsize, version)) {
      st = kan_set_error(KAN_ERR_FORMAT,
                         "%s: step record %zu is damaged (bad tag or "
                         "checksum) but record %zu after it is intact",
                         path, log->nsteps, i);
      goto fail;
    }
  log->dropped_bytes = r.left - log->nsteps * recsize;
  log->dropped_records = (log->dropped_bytes + recsize - 1) / recsize;
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
  if (version < 3)
    log->start_step = log->nsteps ? log->steps[0] : 0;
  return KAN_OK;
fail:
  kan_replay_log_free(log);
  return st;
}

static void hex16(const unsigned char *h, char out[17]) {
  static const char digits[] = "0123456789abcdef";
  int i;
  for (i = 0; i < 8; ++i) {
    out[2 * i] = digits[h[i] >> 4];
    out[2 * i + 1] = digits[h[i] & 15];
  }
  out[16] = '\0';
}

kan_status kan_replay_apply(const kan_replay_log *log, size_t nparams,
                            const kan_param *params) {
  return kan_replay_apply_state(log, nparams, params, NULL);
}

kan_status kan_replay_apply_state(const kan_replay_log *log, size_t nparams,
                                  const kan_param *params,
                                  kan_optim_state *state) {
  return kan_replay_apply_steps(log, 0, log->nsteps, nparams, params, state);
}

kan_status kan_replay_apply_steps(const kan_replay_log *log, size_t first,
                                  size_t count, size_t nparams,
                                  const kan_param *params,
                                  kan_optim_state *state) {
  kan_optim_state own;
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
  if (first > log->nsteps || count > log->nsteps - first) {
    free(ordered);
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "replay: steps %zu to %zu of a log of %zu", first,
                         first + count, log->nsteps);
  }
  /* Only the log's start is the initial weights. */
  if (first == 0 && log->has_weights_sha256) {
    unsigned char h[32];
    char got[17], want[17];
    kan_weights_sha256(nparams, ordered, h);
    if (memcmp(h, log->weights_sha256, 32) != 0) {
      free(ordered);
      hex16(h, got);
      hex16(log->weights_sha256, want);
      return kan_set_error(KAN_ERR_MISMATCH,
                           "replay: the initial weights given are not the "
                           "ones the log starts from (SHA-256 %s..., the log "
                           "records %s...)",
                           got, want);
    }
  }
  if (log->config.kind == KAN_OPT_ACTIVITY) {
    free(ordered);
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "replay: an activity-rule log records seeds, step "
                         "sizes and check sums, not the updates: replaying "
                         "it re-runs every step on the training data "
                         "(kan-train --replay with the data options)");
  }
  memset(&own, 0, sizeof own);
  if (log->config.method != KAN_METHOD_SGD && !state) {
    /* a log that starts from a fresh (zero) optimiser state */
    if ((st = kan_optim_state_init(&own, &log->config, nparams, ordered))) {
      free(ordered);
      return st;
    }
    state = &own;
  }
  for (i = first; i < first + count && !st; ++i)
    st = log->config.method == KAN_METHOD_SGD
             ? kan_optimizer_step_scaled(&log->config, log->steps[i],
                                         log->jvp + i * log->config.ndir,
                                         log->lr_scale ? log->lr_scale[i]
                                                       : 1.0,
                                         nparams, ordered)
             : kan_optimizer_step_state(&log->config, log->steps[i],
                                        log->jvp + i * log->config.ndir,
                                        log->lr_scale ? log->lr_scale[i] : 1.0,
                                        nparams, ordered, state);
  kan_optim_state_free(&own);
  free(ordered);
  return st;
}
