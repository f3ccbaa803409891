/*===- npy.c - NumPy .npy reader and writer ---------------------*- C -*-===*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NPY_MAX_HEADER (1u << 20)

typedef struct {
  const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
                           *c->p == '\r'))
    c->p++;
}

static int eat(cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* A Python string literal without escapes (numpy never writes them here). */
static int parse_str(cursor *c, char *out, size_t cap) {
  char q;
  size_t n = 0;
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return 0;
  q = *c->p++;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || n + 1 >= cap)
      return 0;
    out[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return 0;
  c->p++;
  out[n] = '\0';
  return 1;
}

static int parse_word(cursor *c, const char *w) {
  size_t n = strlen(w);
  skip_ws(c);
  if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
    c->p += n;
    return 1;
  }
  return 0;
}

/* Parses "(d0, d1, ...)" with an optional trailing comma; 0 on error,
   -1 on overflow / too many dimensions. */
static int parse_shape(cursor *c, size_t *ndim, size_t *shape) {
  *ndim = 0;
  if (!eat(c, '('))
    return 0;
  for (;;) {
    size_t v = 0;
    int digits = 0;
    if (eat(c, ')'))
      return 1;
    skip_ws(c);
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      size_t d = (size_t)(*c->p - '0');
      if (v > ((size_t)-1 - d) / 10)
        return -1;
      v = v * 10 + d;
      c->p++;
      digits++;
    }
    if (!digits)
      return 0;
    if (*ndim >= KAN_MAX_DIMS)
      return -1;
    shape[(*ndim)++] = v;
    if (eat(c, ')'))
      return 1;
    if (!eat(c, ','))
      return 0;
  }
}

kan_status kan_npy_read_memory(const void *data, size_t size,
                               const char *name, unsigned flags,
                               kan_tensor *out) {
  const unsigned char *b = (const unsigned char *)data;
  size_t hlen, hoff, doff, numel = 1, bytes, i, es = 0;
  cursor c;
  char key[32], descr[16];
  int have_descr = 0, have_order = 0, have_shape = 0, major;
  size_t ndim = 0, shape[KAN_MAX_DIMS];
  kan_dtype dtype = KAN_DTYPE_F64;
  kan_status st;
  memset(out, 0, sizeof *out);
  if (!kan_host_little_endian())
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: big-endian hosts are not supported", name);
  if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
    return kan_set_error(KAN_ERR_FORMAT, "%s: not an NPY file (bad magic)",
                         name);
  major = b[6];
  if ((major != 1 && major != 2 && major != 3) || b[7] != 0)
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: unsupported NPY format version %d.%d", name,
                         major, b[7]);
  if (major == 1) {
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    hoff = 10;
  } else {
    if (size < 12)
      return kan_set_error(KAN_ERR_FORMAT, "%s: truncated NPY preamble",
                           name);
    hlen = kan_load_u32le(b + 8);
    hoff = 12;
  }
  if (hlen > NPY_MAX_HEADER)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: header length %zu exceeds the 1 MiB limit",
                         name, hlen);
  if (hlen > size - hoff)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: header length %zu but only %zu bytes follow",
                         name, hlen, size - hoff);
  doff = hoff + hlen;
  c.p = (const char *)b + hoff;
  c.end = (const char *)b + doff;
  if (!eat(&c, '{'))
    return kan_set_error(KAN_ERR_FORMAT, "%s: header is not a dict", name);
  while (!eat(&c, '}')) {
    if (!parse_str(&c, key, sizeof key) || !eat(&c, ':'))
      return kan_set_error(KAN_ERR_FORMAT, "%s: malformed header dict",
                           name);
    if (strcmp(key, "descr") == 0) {
      if (!parse_str(&c, descr, sizeof descr))
        return kan_set_error(KAN_ERR_FORMAT, "%s: 'descr' is not a string",
                             name);
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (parse_word(&c, "True"))
        return kan_set_error(KAN_ERR_UNSUPPORTED,
                             "%s: fortran_order True is not supported", name);
      if (!parse_word(&c, "False"))
        return kan_set_error(KAN_ERR_FORMAT,
                             "%s: 'fortran_order' is not a boolean", name);
      have_order = 1;
    } else if (strcmp(key, "shape") == 0) {
      int r = parse_shape(&c, &ndim, shape);
      if (r < 0)
        return kan_set_error(KAN_ERR_UNSUPPORTED,
                             "%s: shape has more than %d dimensions or a "
                             "dimension overflows",
                             name, KAN_MAX_DIMS);
      if (r == 0)
        return kan_set_error(KAN_ERR_FORMAT, "%s: malformed 'shape' tuple",
                             name);
      have_shape = 1;
    } else {
      return kan_set_error(KAN_ERR_FORMAT, "%s: unexpected header key '%s'",
                           name, key);
    }
    if (!eat(&c, ',')) {
      if (!eat(&c, '}'))
        return kan_set_error(KAN_ERR_FORMAT, "%s: malformed header dict",
                             name);
      break;
    }
  }
  skip_ws(&c);
  if (c.p != c.end)
    return kan_set_error(KAN_ERR_FORMAT, "%s: trailing bytes after header",
                         name);
  if (!have_descr || !have_order || !have_shape)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: header lacks 'descr', 'fortran_order' or "
                         "'shape'",
                         name);
  if (strcmp(descr, "<f8") == 0)
    dtype = KAN_DTYPE_F64;
  else if (strcmp(descr, "<f4") == 0)
    dtype = KAN_DTYPE_F32;
  else if (strcmp(descr, "|u1") == 0 || strcmp(descr, "<u1") == 0 ||
           strcmp(descr, "u1") == 0)
    dtype = KAN_DTYPE_U8;
  else if (strcmp(descr, "<i4") == 0)
    dtype = KAN_DTYPE_I32;
  else if (strcmp(descr, "<i8") == 0)
    dtype = KAN_DTYPE_I64;
  else
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: unsupported dtype '%s' (need <f8 <f4 |u1 <i4 "
                         "<i8)",
                         name, descr);
  es = kan_dtype_size(dtype);
  for (i = 0; i < ndim; ++i)
    if (!kan_mul_ok(numel, shape[i], &numel))
      return kan_set_error(KAN_ERR_OVERFLOW,
                           "%s: shape element count overflows", name);
  if (!kan_mul_ok(numel, es, &bytes))
    return kan_set_error(KAN_ERR_OVERFLOW, "%s: data size overflows", name);
  if (bytes != size - doff)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: header says %zu elements but file holds %zu "
                         "data bytes (%zu elements)",
                         name, numel, size - doff, (size - doff) / es);
  st = kan_tensor_alloc(out, dtype, ndim, shape);
  if (st)
    return kan_set_error(st, "%s: cannot allocate %zu bytes", name, bytes);
  if (bytes)
    memcpy(out->data, b + doff, bytes);
  if (flags & KAN_IO_CHECK_FINITE) {
    size_t bad = kan_find_nonfinite(dtype, out->data, numel);
    if (bad != (size_t)-1) {
      kan_tensor_free(out);
      return kan_set_error(KAN_ERR_NONFINITE,
                           "%s: element %zu is NaN or infinite", name, bad);
    }
  }
  return KAN_OK;
}

kan_status kan_npy_read(const char *path, unsigned flags, kan_tensor *out) {
  unsigned char *buf;
  size_t n;
  kan_status st;
  memset(out, 0, sizeof *out);
  st = kan_read_file(path, &buf, &n);
  if (st)
    return st;
  st = kan_npy_read_memory(buf, n, path, flags, out);
  free(buf);
  return st;
}

kan_status kan_npy_write(const char *path, const kan_tensor *t) {
  char dict[512];
  unsigned char pre[12];
  size_t len = 0, i, pre_len, total, pad, bytes;
  const char *descr;
  const void *chunks[4];
  size_t sizes[4];
  char padbuf[80];
  switch (t->dtype) {
  case KAN_DTYPE_F64: descr = "<f8"; break;
  case KAN_DTYPE_F32: descr = "<f4"; break;
  case KAN_DTYPE_U8: descr = "|u1"; break;
  case KAN_DTYPE_I32: descr = "<i4"; break;
  case KAN_DTYPE_I64: descr = "<i8"; break;
  default:
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT, "%s: invalid dtype", path);
  }
  if (t->ndim > KAN_MAX_DIMS)
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT, "%s: invalid rank", path);
  len += (size_t)snprintf(dict + len, sizeof dict - len,
                          "{'descr': '%s', 'fortran_order': False, "
                          "'shape': (",
                          descr);
  for (i = 0; i < t->ndim; ++i)
    len += (size_t)snprintf(dict + len, sizeof dict - len, "%s%zu",
                            i ? ", " : "", t->shape[i]);
  len += (size_t)snprintf(dict + len, sizeof dict - len, "%s), }",
                          t->ndim == 1 ? "," : "");
  /* Header (incl. the final '\n') pads the data start to 64 bytes. */
  pre_len = len + 1 + 10 <= 65535 ? 10 : 12;
  total = pre_len + len + 1;
  pad = (64 - total % 64) % 64;
  memcpy(pre, "\x93NUMPY", 6);
  pre[6] = pre_len == 10 ? 1 : 2;
  pre[7] = 0;
  if (pre_len == 10) {
    pre[8] = (unsigned char)((len + 1 + pad) & 0xff);
    pre[9] = (unsigned char)((len + 1 + pad) >> 8);
  } else {
    kan_store_u32le(pre + 8, (uint32_t)(len + 1 + pad));
  }
  memset(padbuf, ' ', sizeof padbuf);
  padbuf[pad] = '\n';
  bytes = kan_tensor_numel(t) * kan_dtype_size(t->dtype);
  chunks[0] = pre;
  sizes[0] = pre_len;
  chunks[1] = dict;
  sizes[1] = len;
  chunks[2] = padbuf;
  sizes[2] = pad + 1;
  chunks[3] = t->data;
  sizes[3] = bytes;
  return kan_write_file_atomic(path, 4, chunks, sizes);
}
