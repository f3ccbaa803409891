/*===- csv.c - numeric CSV reader -------------------------------*- C -*-===*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CSV_MAX_COLS ((size_t)1 << 24)

/* Parses a strtod-compatible decimal number in [s, e); strtod alone could
   read past the field (e.g. into the next line), so the field is copied. */
static int parse_double(const char *s, const char *e, double *out) {
  char tmp[128];
  char *end;
  size_t n = (size_t)(e - s);
  if (n == 0 || n >= sizeof tmp)
    return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  /* Reject hex floats and words strtod accepts (inf/nan are allowed). */
  if (strchr(tmp, 'x') || strchr(tmp, 'X'))
    return 0;
  errno = 0;
  *out = strtod(tmp, &end);
  return end == tmp + n;
}

kan_status kan_csv_read_memory(const void *data, size_t size,
                               const char *name, int has_header,
                               unsigned flags, kan_tensor *out) {
  const char *s = (const char *)data, *end = s + size, *p = s;
  size_t line = 0, cols = 0, rows = 0, cap = 0, n = 0;
  double *vals = NULL;
  int header_pending = has_header;
  memset(out, 0, sizeof *out);
  while (p < end) {
    const char *eol = (const char *)memchr(p, '\n', (size_t)(end - p));
    const char *le = eol ? eol : end, *f;
    size_t c = 0;
    ++line;
    if (le > p && le[-1] == '\r')
      --le;
    if (header_pending) {
      header_pending = 0;
      p = eol ? eol + 1 : end;
      continue;
    }
    {
      const char *q = p;
      while (q < le && (*q == ' ' || *q == '\t'))
        ++q;
      if (q == le) { /* blank line */
        p = eol ? eol + 1 : end;
        continue;
      }
    }
    f = p;
    for (;;) {
      const char *fe = f, *a, *b;
      double v;
      while (fe < le && *fe != ',')
        ++fe;
      a = f;
      b = fe;
      while (a < b && (*a == ' ' || *a == '\t'))
        ++a;
      while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        --b;
      if (!parse_double(a, b, &v)) {
        free(vals);
        return kan_set_error(KAN_ERR_FORMAT,
                             "%s:%zu:%zu: '%.*s' is not a number", name, line,
                             (size_t)(a - p) + 1, (int)(b - a < 40 ? b - a : 40),
                             a);
      }
      if ((flags & KAN_IO_CHECK_FINITE) && !(v - v == 0)) {
        free(vals);
        return kan_set_error(KAN_ERR_NONFINITE,
                             "%s:%zu:%zu: value is NaN or infinite", name,
                             line, (size_t)(a - p) + 1);
      }
      if (n == cap) {
        size_t nc = cap ? cap * 2 : 1024;
        double *nv;
        if (nc > KAN_IO_MAX_BYTES / sizeof(double) ||
            !(nv = (double *)realloc(vals, nc * sizeof *nv))) {
          free(vals);
          return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory",
                               name);
        }
        vals = nv;
        cap = nc;
      }
      vals[n++] = v;
      ++c;
      if (c > CSV_MAX_COLS) {
        free(vals);
        return kan_set_error(KAN_ERR_UNSUPPORTED,
                             "%s:%zu: more than %zu columns", name, line,
                             CSV_MAX_COLS);
      }
      if (rows > 0 && c > cols) {
        free(vals);
        return kan_set_error(KAN_ERR_FORMAT,
                             "%s:%zu:%zu: row has more than the %zu columns "
                             "of the first row",
                             name, line, (size_t)(a - p) + 1, cols);
      }
      if (fe >= le)
        break;
      f = fe + 1;
    }
    if (rows == 0)
      cols = c;
    else if (c != cols) {
      free(vals);
      return kan_set_error(KAN_ERR_FORMAT,
                           "%s:%zu:%zu: row has %zu columns but the first "
                           "row has %zu",
                           name, line, (size_t)(le - p) + 1, c, cols);
    }
    ++rows;
    p = eol ? eol + 1 : end;
  }
  {
    size_t shape[2];
    kan_status st;
    shape[0] = rows;
    shape[1] = cols;
    st = kan_tensor_alloc(out, KAN_DTYPE_F64, 2, shape);
    if (st) {
      free(vals);
      return kan_set_error(st, "%s: cannot allocate the table", name);
    }
    if (n)
      memcpy(out->data, vals, n * sizeof *vals);
  }
  free(vals);
  return KAN_OK;
}

kan_status kan_csv_read(const char *path, int has_header, unsigned flags,
                        kan_tensor *out) {
  unsigned char *buf;
  size_t n;
  kan_status st;
  memset(out, 0, sizeof *out);
  st = kan_read_file(path, &buf, &n);
  if (st)
    return st;
  st = kan_csv_read_memory(buf, n, path, has_header, flags, out);
  free(buf);
  return st;
}
