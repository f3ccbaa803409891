/*===- safetensors.c - safetensors reader and writer ------------*- C -*-===*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json.h"

#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

typedef struct {
  const char *name;
  kan_dtype dtype;
  size_t ndim;
  size_t shape[KAN_MAX_DIMS];
  uint64_t begin, end;
} st_entry;

static int cmp_entry(const void *a, const void *b) {
  const st_entry *x = (const st_entry *)a, *y = (const st_entry *)b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end ? 1 : 0;
}

static const kj_value *member(const kj_value *o, const char *key) {
  size_t i;
  for (i = 0; i < o->count; ++i)
    if (strcmp(o->keys[i], key) == 0)
      return &o->items[i];
  return NULL;
}

static int parse_dtype(const char *s, kan_dtype *d) {
  if (strcmp(s, "F64") == 0)
    *d = KAN_DTYPE_F64;
  else if (strcmp(s, "F32") == 0)
    *d = KAN_DTYPE_F32;
  else if (strcmp(s, "I64") == 0)
    *d = KAN_DTYPE_I64;
  else if (strcmp(s, "I32") == 0)
    *d = KAN_DTYPE_I32;
  else if (strcmp(s, "U8") == 0)
    *d = KAN_DTYPE_U8;
  else
    return 0;
  return 1;
}

static kan_status parse_entry(const char *name, const char *key,
                              const kj_value *v, st_entry *e) {
  const kj_value *dt, *sh, *off;
  uint64_t b, en, numel = 1, bytes;
  size_t i;
  if (v->type != KJ_OBJECT)
    return kan_set_error(KAN_ERR_FORMAT, "%s: tensor '%s' is not an object",
                         name, key);
  for (i = 0; i < v->count; ++i)
    if (strcmp(v->keys[i], "dtype") && strcmp(v->keys[i], "shape") &&
        strcmp(v->keys[i], "data_offsets"))
      return kan_set_error(KAN_ERR_FORMAT,
                           "%s: tensor '%s' has unknown field '%s'", name, key,
                           v->keys[i]);
  dt = member(v, "dtype");
  sh = member(v, "shape");
  off = member(v, "data_offsets");
  if (!dt || !sh || !off)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: tensor '%s' lacks dtype, shape or data_offsets",
                         name, key);
  if (dt->type != KJ_STRING)
    return kan_set_error(KAN_ERR_FORMAT, "%s: tensor '%s': dtype is not a "
                         "string", name, key);
  if (!parse_dtype(dt->text, &e->dtype))
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: tensor '%s' has unsupported dtype '%s'", name,
                         key, dt->text);
  if (sh->type != KJ_ARRAY)
    return kan_set_error(KAN_ERR_FORMAT, "%s: tensor '%s': shape is not an "
                         "array", name, key);
  if (sh->count > KAN_MAX_DIMS)
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: tensor '%s' has %zu dimensions (max %d)", name,
                         key, sh->count, KAN_MAX_DIMS);
  e->ndim = sh->count;
  for (i = 0; i < sh->count; ++i) {
    uint64_t d;
    if (!kj_get_u64(&sh->items[i], &d) || d > (uint64_t)SIZE_MAX)
      return kan_set_error(KAN_ERR_FORMAT,
                           "%s: tensor '%s': shape[%zu] is not a "
                           "non-negative integer",
                           name, key, i);
    if (d != 0 && numel > UINT64_MAX / d)
      return kan_set_error(KAN_ERR_OVERFLOW,
                           "%s: tensor '%s': element count overflows", name,
                           key);
    numel *= d;
    e->shape[i] = (size_t)d;
  }
  if (off->type != KJ_ARRAY || off->count != 2 ||
      !kj_get_u64(&off->items[0], &b) || !kj_get_u64(&off->items[1], &en))
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets is not [begin, end]",
                         name, key);
  if (numel > UINT64_MAX / kan_dtype_size(e->dtype))
    return kan_set_error(KAN_ERR_OVERFLOW,
                         "%s: tensor '%s': byte size overflows", name, key);
  bytes = numel * kan_dtype_size(e->dtype);
  if (en < b || en - b != bytes)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%llu, %llu] hold "
                         "%llu bytes but the shape needs %llu",
                         name, key, (unsigned long long)b,
                         (unsigned long long)en,
                         (unsigned long long)(en >= b ? en - b : 0),
                         (unsigned long long)bytes);
  e->name = key;
  e->begin = b;
  e->end = en;
  return KAN_OK;
}

kan_status kan_safetensors_read_memory(const void *data, size_t size,
                                       const char *name, unsigned flags,
                                       kan_tensor_map *out) {
  const unsigned char *buf = (const unsigned char *)data;
  uint64_t hlen, dsize;
  kj_value root;
  char err[256];
  st_entry *ents = NULL;
  size_t n = 0, i;
  kan_status st = KAN_OK;
  kan_tensor_map_init(out);
  if (!kan_host_little_endian())
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: big-endian hosts are not supported", name);
  if (size < 8)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: %zu bytes is too short for a safetensors file",
                         name, size);
  hlen = kan_load_u64le(buf);
  if (hlen > ST_MAX_HEADER)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: header length %llu exceeds the 100 MB limit",
                         name, (unsigned long long)hlen);
  if (hlen > size - 8)
    return kan_set_error(KAN_ERR_FORMAT,
                         "%s: header length %llu but only %zu bytes follow",
                         name, (unsigned long long)hlen, size - 8);
  dsize = size - 8 - hlen;
  if (!kj_parse((const char *)buf + 8, (size_t)hlen, &root, err, sizeof err))
    return kan_set_error(KAN_ERR_FORMAT, "%s: invalid header: %s", name, err);
  if (root.type != KJ_OBJECT) {
    kj_free(&root);
    return kan_set_error(KAN_ERR_FORMAT, "%s: header is not a JSON object",
                         name);
  }
  ents = (st_entry *)calloc(root.count ? root.count : 1, sizeof *ents);
  if (!ents) {
    kj_free(&root);
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  }
  for (i = 0; i < root.count && !st; ++i) {
    const kj_value *v = &root.items[i];
    if (strcmp(root.keys[i], "__metadata__") == 0) {
      size_t j;
      if (v->type != KJ_OBJECT) {
        st = kan_set_error(KAN_ERR_FORMAT,
                           "%s: __metadata__ is not an object", name);
        break;
      }
      for (j = 0; j < v->count && !st; ++j) {
        if (v->items[j].type != KJ_STRING)
          st = kan_set_error(KAN_ERR_FORMAT,
                             "%s: __metadata__ value '%s' is not a string",
                             name, v->keys[j]);
        else if ((st = kan_tensor_map_set_meta(out, v->keys[j],
                                               v->items[j].text)))
          kan_set_error(st, "%s: out of memory", name);
      }
      continue;
    }
    if (root.keys[i][0] == '\0')
      st = kan_set_error(KAN_ERR_FORMAT, "%s: empty tensor name", name);
    else
      st = parse_entry(name, root.keys[i], v, &ents[n++]);
  }
  if (!st) {
    uint64_t pos = 0;
    qsort(ents, n, sizeof *ents, cmp_entry);
    for (i = 0; i < n && !st; ++i) {
      if (ents[i].begin < pos)
        st = kan_set_error(KAN_ERR_FORMAT,
                           "%s: tensor '%s' overlaps the previous tensor "
                           "(begins at %llu, previous ends at %llu)",
                           name, ents[i].name,
                           (unsigned long long)ents[i].begin,
                           (unsigned long long)pos);
      else if (ents[i].begin > pos)
        st = kan_set_error(KAN_ERR_FORMAT,
                           "%s: bytes [%llu, %llu) of the data are not "
                           "covered by any tensor",
                           name, (unsigned long long)pos,
                           (unsigned long long)ents[i].begin);
      else if (ents[i].end > dsize)
        st = kan_set_error(KAN_ERR_FORMAT,
                           "%s: tensor '%s' ends at byte %llu but the data "
                           "section holds %llu bytes",
                           name, ents[i].name,
                           (unsigned long long)ents[i].end,
                           (unsigned long long)dsize);
      pos = ents[i].end;
    }
    if (!st && pos != dsize)
      st = kan_set_error(KAN_ERR_FORMAT,
                         "%s: %llu trailing data bytes not covered by any "
                         "tensor",
                         name, (unsigned long long)(dsize - pos));
  }
  for (i = 0; i < n && !st; ++i) {
    kan_tensor t;
    const size_t bytes = (size_t)(ents[i].end - ents[i].begin);
    st = kan_tensor_alloc(&t, ents[i].dtype, ents[i].ndim, ents[i].shape);
    if (st) {
      kan_set_error(st, "%s: tensor '%s' cannot be allocated", name,
                    ents[i].name);
      break;
    }
    if (bytes)
      memcpy(t.data, buf + 8 + hlen + ents[i].begin, bytes);
    if (flags & KAN_IO_CHECK_FINITE) {
      size_t bad = kan_find_nonfinite(t.dtype, t.data, kan_tensor_numel(&t));
      if (bad != (size_t)-1) {
        kan_tensor_free(&t);
        st = kan_set_error(KAN_ERR_NONFINITE,
                           "%s: tensor '%s' element %zu is NaN or infinite",
                           name, ents[i].name, bad);
        break;
      }
    }
    st = kan_tensor_map_add_move(out, ents[i].name, &t);
    if (st) {
      kan_tensor_free(&t);
      kan_set_error(st, "%s: cannot add tensor", name);
    }
  }
  free(ents);
  kj_free(&root);
  if (st)
    kan_tensor_map_free(out);
  return st;
}

kan_status kan_safetensors_read(const char *path, unsigned flags,
                                kan_tensor_map *out) {
  unsigned char *buf;
  size_t n;
  kan_status st;
  kan_tensor_map_init(out);
  st = kan_read_file(path, &buf, &n);
  if (st)
    return st;
  st = kan_safetensors_read_memory(buf, n, path, flags, out);
  free(buf);
  return st;
}

/* Growable string for the JSON header. */
typedef struct {
  char *s;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t nc = (b->cap ? b->cap * 2 : 256);
    char *ns;
    while (nc < b->len + n + 1)
      nc *= 2;
    ns = (char *)realloc(b->s, nc);
    if (!ns) {
      b->oom = 1;
      return;
    }
    b->s = ns;
    b->cap = nc;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_json_string(sbuf *b, const char *s) {
  sb_str(b, "\"");
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    char tmp[8];
    if (c == '"' || c == '\\') {
      tmp[0] = '\\';
      tmp[1] = (char)c;
      sb_add(b, tmp, 2);
    } else if (c < 0x20) {
      snprintf(tmp, sizeof tmp, "\\u%04x", c);
      sb_str(b, tmp);
    } else {
      sb_add(b, s, 1);
    }
  }
  sb_str(b, "\"");
}

kan_status kan_safetensors_write(const char *path, const kan_tensor_map *m) {
  sbuf h = {NULL, 0, 0, 0};
  size_t i, j, off = 0, nchunks = 0;
  const void **chunks;
  size_t *sizes;
  unsigned char pre[8];
  static const char spaces[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  kan_status st;
  char num[64];
  sb_str(&h, "{");
  if (m->meta_count) {
    sb_str(&h, "\"__metadata__\":{");
    for (i = 0; i < m->meta_count; ++i) {
      if (i)
        sb_str(&h, ",");
      sb_json_string(&h, m->meta_keys[i]);
      sb_str(&h, ":");
      sb_json_string(&h, m->meta_values[i]);
    }
    sb_str(&h, "}");
  }
  for (i = 0; i < m->count; ++i) {
    const kan_tensor *t = &m->tensors[i];
    const size_t bytes = kan_tensor_numel(t) * kan_dtype_size(t->dtype);
    const char *dt = t->dtype == KAN_DTYPE_F64   ? "F64"
                     : t->dtype == KAN_DTYPE_F32 ? "F32"
                     : t->dtype == KAN_DTYPE_I64 ? "I64"
                     : t->dtype == KAN_DTYPE_I32 ? "I32"
                                                 : "U8";
    if (i || m->meta_count)
      sb_str(&h, ",");
    sb_json_string(&h, m->names[i]);
    sb_str(&h, ":{\"dtype\":\"");
    sb_str(&h, dt);
    sb_str(&h, "\",\"shape\":[");
    for (j = 0; j < t->ndim; ++j) {
      snprintf(num, sizeof num, "%s%zu", j ? "," : "", t->shape[j]);
      sb_str(&h, num);
    }
    snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off,
             off + bytes);
    sb_str(&h, num);
    off += bytes;
  }
  sb_str(&h, "}");
  if (h.oom) {
    free(h.s);
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  chunks = (const void **)malloc((m->count + 3) * sizeof *chunks);
  sizes = (size_t *)malloc((m->count + 3) * sizeof *sizes);
  if (!chunks || !sizes) {
    free(h.s);
    free(chunks);
    free(sizes);
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  {
    const size_t pad = (8 - h.len % 8) % 8;
    kan_store_u64le(pre, (uint64_t)(h.len + pad));
    chunks[nchunks] = pre;
    sizes[nchunks++] = 8;
    chunks[nchunks] = h.s;
    sizes[nchunks++] = h.len;
    chunks[nchunks] = spaces;
    sizes[nchunks++] = pad;
  }
  for (i = 0; i < m->count; ++i) {
    chunks[nchunks] = m->tensors[i].data;
    sizes[nchunks++] = kan_tensor_numel(&m->tensors[i]) *
                       kan_dtype_size(m->tensors[i].dtype);
  }
  st = kan_write_file_atomic(path, nchunks, chunks, sizes);
  free(h.s);
  free(chunks);
  free(sizes);
  return st;
}
