/*===- idx.c - IDX (MNIST family) reader, plain or gzip ---------*- C -*-===*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

static uint32_t load_u32be(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

kan_status kan_idx_read_memory(const void *data, size_t size,
                               const char *name, kan_tensor *out) {
  const unsigned char *b = (const unsigned char *)data;
  size_t ndim, i, numel = 1, hdr;
  size_t shape[KAN_MAX_DIMS];
  kan_status st;
  memset(out, 0, sizeof *out);
  if (size < 4 || b[0] != 0 || b[1] != 0)
    return kan_set_error(KAN_ERR_FORMAT, "%s: not an IDX file (bad magic)",
                         name);
  if (b[2] != 0x08)
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: IDX element type 0x%02x is not supported (only "
                         "unsigned byte 0x08)",
                         name, b[2]);
  ndim = b[3];
  if (ndim == 0 || ndim > KAN_MAX_DIMS)
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: IDX rank %zu not in [1, %d]", name, ndim,
                         KAN_MAX_DIMS);
  hdr = 4 + 4 * ndim;
  if (size < hdr)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: truncated IDX header (%zu of %zu bytes)", name,
                         size, hdr);
  for (i = 0; i < ndim; ++i) {
    shape[i] = load_u32be(b + 4 + 4 * i);
    if (!kan_mul_ok(numel, shape[i], &numel))
      return kan_set_error(KAN_ERR_OVERFLOW,
                           "%s: IDX dimensions overflow", name);
  }
  if (numel != size - hdr)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: header says %zu elements but file holds %zu",
                         name, numel, size - hdr);
  st = kan_tensor_alloc(out, KAN_DTYPE_U8, ndim, shape);
  if (st)
    return kan_set_error(st, "%s: cannot allocate %zu bytes", name, numel);
  if (numel)
    memcpy(out->data, b + hdr, numel);
  return KAN_OK;
}

/* Reads up to n bytes; returns the count, or -1 after setting the error. */
static long idx_gzread(gzFile f, const char *path, unsigned char *dst,
                       size_t n) {
  size_t got = 0;
  while (got < n) {
    unsigned want = n - got > (1u << 30) ? (1u << 30) : (unsigned)(n - got);
    int zerr, r = gzread(f, dst + got, want);
    if (r < 0) {
      const char *msg = gzerror(f, &zerr);
      kan_set_error(KAN_ERR_FORMAT, "%s: gzip error: %s", path,
                    msg ? msg : "unknown");
      return -1;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  return (long)got;
}

kan_status kan_idx_read(const char *path, kan_tensor *out) {
  gzFile f;
  unsigned char head[4 + 4 * KAN_MAX_DIMS], extra;
  unsigned char *buf = NULL;
  size_t ndim, hdr, numel = 1, i, len = 0;
  long got;
  kan_status st = KAN_OK;
  int rc;
  char dims[16 * KAN_MAX_DIMS];
  memset(out, 0, sizeof *out);
  /* gzread passes plain files through unchanged ("transparent" mode). The
     header's dimensions bound what is read: a small file that inflates to
     gigabytes (a gzip bomb) is refused after the declared size plus one
     byte, never buffered whole. */
  f = gzopen(path, "rb");
  if (!f)
    return kan_set_error(KAN_ERR_IO, "%s: cannot open: %s", path,
                         errno ? strerror(errno) : "gzopen failed");
  got = idx_gzread(f, path, head, 4);
  if (got < 0) {
    gzclose(f);
    return KAN_ERR_FORMAT;
  }
  ndim = got == 4 ? head[3] : 0;
  if (got < 4 || head[0] != 0 || head[1] != 0 || head[2] != 0x08 ||
      ndim == 0 || ndim > KAN_MAX_DIMS) {
    gzclose(f);
    /* The in-memory reader words the error. */
    return kan_idx_read_memory(head, (size_t)got, path, out);
  }
  hdr = 4 + 4 * ndim;
  got = idx_gzread(f, path, head + 4, hdr - 4);
  if (got < 0) {
    gzclose(f);
    return KAN_ERR_FORMAT;
  }
  if ((size_t)got < hdr - 4) {
    gzclose(f);
    return kan_idx_read_memory(head, 4 + (size_t)got, path, out);
  }
  dims[0] = '\0';
  for (i = 0; i < ndim; ++i) {
    uint32_t d = load_u32be(head + 4 + 4 * i);
    size_t dl = strlen(dims);
    snprintf(dims + dl, sizeof dims - dl, "%s%u", i ? "x" : "", (unsigned)d);
    if (!kan_mul_ok(numel, d, &numel)) {
      gzclose(f);
      return kan_set_error(KAN_ERR_OVERFLOW, "%s: IDX dimensions overflow",
                           path);
    }
  }
  if (numel > KAN_IO_MAX_BYTES - hdr) {
    gzclose(f);
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: IDX dimensions %s exceed the %zu byte limit",
                         path, dims, (size_t)KAN_IO_MAX_BYTES);
  }
  /* The buffer grows with what arrives (doubling, up to the declared size),
     so a short file that declares gigabytes allocates little. */
  for (;;) {
    size_t cap = len ? len * 2 : (size_t)1 << 20;
    unsigned char *nb;
    long r;
    if (cap > numel)
      cap = numel;
    nb = (unsigned char *)realloc(buf, hdr + cap + 1);
    if (!nb) {
      free(buf);
      gzclose(f);
      return kan_set_error(KAN_ERR_OUT_OF_MEMORY,
                           "%s: cannot allocate %zu bytes", path, hdr + cap);
    }
    buf = nb;
    r = idx_gzread(f, path, buf + hdr + len, cap - len);
    if (r < 0) {
      got = -1;
      break;
    }
    len += (size_t)r;
    got = (long)len;
    if (len < cap || len == numel)
      break;
  }
  memcpy(buf, head, hdr);
  if (got >= 0 && (size_t)got == numel &&
      idx_gzread(f, path, &extra, 1) == 1)
    st = kan_set_error(KAN_ERR_FORMAT,
                       "%s: more data than the header's %s elements", path,
                       dims);
  else if (got < 0)
    st = KAN_ERR_FORMAT;
  rc = gzclose(f);
  if (!st && rc == Z_BUF_ERROR)
    st = kan_set_error(KAN_ERR_FORMAT,
                       "%s: truncated gzip stream (unexpected end of file)",
                       path);
  else if (!st && rc != Z_OK)
    st = kan_set_error(KAN_ERR_IO, "%s: gzip close failed (%d)", path, rc);
  if (!st)
    st = kan_idx_read_memory(buf, hdr + (size_t)got, path, out);
  free(buf);
  return st;
}
