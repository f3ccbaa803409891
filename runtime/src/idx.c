/*===- idx.c - IDX (MNIST family) reader, plain or gzip ---------*- C -*-===*/
#include <errno.h>
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

kan_status kan_idx_read(const char *path, kan_tensor *out) {
  gzFile f;
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  kan_status st;
  int zerr, rc;
  memset(out, 0, sizeof *out);
  /* gzread passes plain files through unchanged ("transparent" mode). */
  f = gzopen(path, "rb");
  if (!f)
    return kan_set_error(KAN_ERR_IO, "%s: cannot open: %s", path,
                         errno ? strerror(errno) : "gzopen failed");
  for (;;) {
    int got;
    if (cap - len < (1u << 20)) {
      size_t nc = cap ? cap * 2 : (1u << 20);
      unsigned char *nb;
      if (nc > KAN_IO_MAX_BYTES) {
        free(buf);
        gzclose(f);
        return kan_set_error(KAN_ERR_UNSUPPORTED,
                             "%s: content exceeds the %zu byte limit", path,
                             KAN_IO_MAX_BYTES);
      }
      nb = (unsigned char *)realloc(buf, nc);
      if (!nb) {
        free(buf);
        gzclose(f);
        return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory",
                             path);
      }
      buf = nb;
      cap = nc;
    }
    got = gzread(f, buf + len, 1u << 20);
    if (got < 0) {
      const char *msg = gzerror(f, &zerr);
      st = kan_set_error(KAN_ERR_FORMAT, "%s: gzip error: %s", path,
                         msg ? msg : "unknown");
      free(buf);
      gzclose(f);
      return st;
    }
    if (got == 0)
      break;
    len += (size_t)got;
  }
  rc = gzclose(f);
  if (rc == Z_BUF_ERROR) {
    free(buf);
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: truncated gzip stream (unexpected end of file)",
                         path);
  }
  if (rc != Z_OK) {
    free(buf);
    return kan_set_error(KAN_ERR_IO, "%s: gzip close failed (%d)", path, rc);
  }
  st = kan_idx_read_memory(buf, len, path, out);
  free(buf);
  return st;
}
