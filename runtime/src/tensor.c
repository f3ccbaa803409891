/*===- tensor.c - kan_tensor and kan_tensor_map -----------------*- C -*-===*/
#include <stdlib.h>
#include <string.h>

#include "internal.h"

size_t kan_dtype_size(kan_dtype dtype) {
  switch (dtype) {
  case KAN_DTYPE_F32: return 4;
  case KAN_DTYPE_F64: return 8;
  case KAN_DTYPE_U8: return 1;
  case KAN_DTYPE_I32: return 4;
  case KAN_DTYPE_I64: return 8;
  }
  return 0;
}

const char *kan_dtype_name(kan_dtype dtype) {
  switch (dtype) {
  case KAN_DTYPE_F32: return "f32";
  case KAN_DTYPE_F64: return "f64";
  case KAN_DTYPE_U8: return "u8";
  case KAN_DTYPE_I32: return "i32";
  case KAN_DTYPE_I64: return "i64";
  }
  return "invalid";
}

size_t kan_tensor_numel(const kan_tensor *t) {
  size_t n = 1, i;
  for (i = 0; i < t->ndim && i < KAN_MAX_DIMS; ++i)
    n *= t->shape[i];
  return n;
}

kan_status kan_tensor_alloc(kan_tensor *t, kan_dtype dtype, size_t ndim,
                            const size_t *shape) {
  size_t n = 1, bytes, i, es = kan_dtype_size(dtype);
  memset(t, 0, sizeof *t);
  if (es == 0 || ndim > KAN_MAX_DIMS || (ndim && !shape))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "kan_tensor_alloc: bad dtype or rank %zu", ndim);
  for (i = 0; i < ndim; ++i)
    if (!kan_mul_ok(n, shape[i], &n))
      return kan_set_error(KAN_ERR_OVERFLOW,
                           "kan_tensor_alloc: element count overflows");
  if (!kan_mul_ok(n, es, &bytes) || bytes > KAN_IO_MAX_BYTES)
    return kan_set_error(KAN_ERR_OVERFLOW,
                         "kan_tensor_alloc: %zu elements are too many", n);
  t->data = calloc(bytes ? bytes : 1, 1);
  if (!t->data)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY,
                         "kan_tensor_alloc: cannot allocate %zu bytes", bytes);
  t->dtype = dtype;
  t->ndim = ndim;
  for (i = 0; i < ndim; ++i)
    t->shape[i] = shape[i];
  return KAN_OK;
}

void kan_tensor_free(kan_tensor *t) {
  if (!t)
    return;
  free(t->data);
  memset(t, 0, sizeof *t);
}

void kan_tensor_map_init(kan_tensor_map *m) { memset(m, 0, sizeof *m); }

void kan_tensor_map_free(kan_tensor_map *m) {
  size_t i;
  if (!m)
    return;
  for (i = 0; i < m->count; ++i) {
    free(m->names[i]);
    kan_tensor_free(&m->tensors[i]);
  }
  for (i = 0; i < m->meta_count; ++i) {
    free(m->meta_keys[i]);
    free(m->meta_values[i]);
  }
  free(m->names);
  free(m->tensors);
  free(m->meta_keys);
  free(m->meta_values);
  memset(m, 0, sizeof *m);
}

kan_tensor *kan_tensor_map_find(const kan_tensor_map *m, const char *name) {
  size_t i;
  for (i = 0; i < m->count; ++i)
    if (strcmp(m->names[i], name) == 0)
      return &m->tensors[i];
  return NULL;
}

kan_status kan_tensor_map_add_move(kan_tensor_map *m, const char *name,
                                   kan_tensor *t) {
  char **names;
  kan_tensor *ts;
  char *dup;
  if (!name || !*name || kan_tensor_map_find(m, name))
    return kan_set_error(KAN_ERR_INVALID_ARGUMENT,
                         "tensor map: empty or duplicate name '%s'",
                         name ? name : "");
  names = (char **)realloc(m->names, (m->count + 1) * sizeof *names);
  if (!names)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "tensor map: out of memory");
  m->names = names;
  ts = (kan_tensor *)realloc(m->tensors, (m->count + 1) * sizeof *ts);
  if (!ts)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "tensor map: out of memory");
  m->tensors = ts;
  dup = kan_strdup(name);
  if (!dup)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "tensor map: out of memory");
  m->names[m->count] = dup;
  m->tensors[m->count] = *t;
  m->count++;
  memset(t, 0, sizeof *t);
  return KAN_OK;
}

kan_status kan_tensor_map_add_copy(kan_tensor_map *m, const char *name,
                                   const kan_tensor *t) {
  kan_tensor c;
  kan_status st = kan_tensor_alloc(&c, t->dtype, t->ndim, t->shape);
  if (st)
    return st;
  memcpy(c.data, t->data, kan_tensor_numel(t) * kan_dtype_size(t->dtype));
  st = kan_tensor_map_add_move(m, name, &c);
  if (st)
    kan_tensor_free(&c);
  return st;
}

kan_status kan_tensor_map_set_meta(kan_tensor_map *m, const char *key,
                                   const char *value) {
  size_t i;
  char *v = kan_strdup(value), *k, **ks, **vs;
  if (!v)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "tensor map: out of memory");
  for (i = 0; i < m->meta_count; ++i)
    if (strcmp(m->meta_keys[i], key) == 0) {
      free(m->meta_values[i]);
      m->meta_values[i] = v;
      return KAN_OK;
    }
  k = kan_strdup(key);
  ks = (char **)realloc(m->meta_keys, (m->meta_count + 1) * sizeof *ks);
  if (ks)
    m->meta_keys = ks;
  vs = ks ? (char **)realloc(m->meta_values, (m->meta_count + 1) * sizeof *vs)
          : NULL;
  if (vs)
    m->meta_values = vs;
  if (!k || !ks || !vs) {
    free(k);
    free(v);
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "tensor map: out of memory");
  }
  m->meta_keys[m->meta_count] = k;
  m->meta_values[m->meta_count] = v;
  m->meta_count++;
  return KAN_OK;
}

const char *kan_tensor_map_get_meta(const kan_tensor_map *m,
                                    const char *key) {
  size_t i;
  for (i = 0; i < m->meta_count; ++i)
    if (strcmp(m->meta_keys[i], key) == 0)
      return m->meta_values[i];
  return NULL;
}
