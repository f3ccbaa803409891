/*===- json.c - a small strict JSON parser ----------------------*- C -*-===*/
/* Only what the safetensors header needs, but strictly: no trailing commas,
   no comments, no control characters in strings, strings valid UTF-8,
   valid escapes and UTF-16 surrogate pairs, depth limit, duplicate object keys rejected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define KJ_MAX_DEPTH 64

typedef struct {
  const char *s;
  size_t len, pos;
  char *err;
  size_t errcap;
} kj_parser;

static int fail(kj_parser *p, const char *msg) {
  if (p->err && p->err[0] == '\0')
    snprintf(p->err, p->errcap, "JSON error at byte %zu: %s", p->pos, msg);
  return 0;
}

static void ws(kj_parser *p) {
  while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
    p->pos++;
}

static int hex4(kj_parser *p, unsigned *out) {
  unsigned v = 0;
  int i;
  if (p->len - p->pos < 4)
    return fail(p, "truncated \\u escape");
  for (i = 0; i < 4; ++i) {
    char c = p->s[p->pos++];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return fail(p, "bad hex digit in \\u escape");
  }
  *out = v;
  return 1;
}

static int parse_string(kj_parser *p, char **out) {
  /* Output is never longer than the input span. */
  size_t start = ++p->pos, n = 0;
  char *buf;
  size_t cap = 16;
  (void)start;
  buf = (char *)malloc(cap);
  if (!buf)
    return fail(p, "out of memory");
  for (;;) {
    unsigned char c;
    unsigned cp = 0;
    if (n + 5 >= cap) {
      char *nb;
      cap *= 2;
      nb = (char *)realloc(buf, cap);
      if (!nb) {
        free(buf);
        return fail(p, "out of memory");
      }
      buf = nb;
    }
    if (p->pos >= p->len) {
      free(buf);
      return fail(p, "unterminated string");
    }
    c = (unsigned char)p->s[p->pos++];
    if (c == '"')
      break;
    if (c < 0x20) {
      free(buf);
      return fail(p, "control character in string");
    }
    if (c >= 0x80) {
      /* RFC 8259 text is UTF-8 (RFC 3629): no overlong forms, no
         surrogates, nothing above U+10FFFF. */
      size_t need, k;
      unsigned char lo = 0x80, hi = 0xBF;
      if (c >= 0xC2 && c <= 0xDF)
        need = 1;
      else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
          lo = 0xA0;
        else if (c == 0xED)
          hi = 0x9F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
          lo = 0x90;
        else if (c == 0xF4)
          hi = 0x8F;
      } else {
        p->pos--;
        free(buf);
        return fail(p, "string is not valid UTF-8");
      }
      if (p->len - p->pos < need) {
        p->pos--;
        free(buf);
        return fail(p, "string is not valid UTF-8 (truncated sequence)");
      }
      buf[n++] = (char)c;
      for (k = 0; k < need; ++k) {
        unsigned char t = (unsigned char)p->s[p->pos];
        if (t < (k ? 0x80 : lo) || t > (k ? 0xBF : hi)) {
          free(buf);
          return fail(p, "string is not valid UTF-8");
        }
        buf[n++] = (char)t;
        p->pos++;
      }
      continue;
    }
    if (c != '\\') {
      buf[n++] = (char)c;
      continue;
    }
    if (p->pos >= p->len) {
      free(buf);
      return fail(p, "unterminated escape");
    }
    c = (unsigned char)p->s[p->pos++];
    switch (c) {
    case '"': buf[n++] = '"'; continue;
    case '\\': buf[n++] = '\\'; continue;
    case '/': buf[n++] = '/'; continue;
    case 'b': buf[n++] = '\b'; continue;
    case 'f': buf[n++] = '\f'; continue;
    case 'n': buf[n++] = '\n'; continue;
    case 'r': buf[n++] = '\r'; continue;
    case 't': buf[n++] = '\t'; continue;
    case 'u': break;
    default: free(buf); return fail(p, "invalid escape");
    }
    if (!hex4(p, &cp)) {
      free(buf);
      return 0;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      unsigned lo;
      if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
          p->s[p->pos + 1] != 'u') {
        free(buf);
        return fail(p, "unpaired surrogate");
      }
      p->pos += 2;
      if (!hex4(p, &lo)) {
        free(buf);
        return 0;
      }
      if (lo < 0xDC00 || lo > 0xDFFF) {
        free(buf);
        return fail(p, "unpaired surrogate");
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      free(buf);
      return fail(p, "unpaired surrogate");
    }
    if (cp == 0) {
      free(buf);
      return fail(p, "\\u0000 in string");
    }
    if (cp < 0x80) {
      buf[n++] = (char)cp;
    } else if (cp < 0x800) {
      buf[n++] = (char)(0xC0 | (cp >> 6));
      buf[n++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      buf[n++] = (char)(0xE0 | (cp >> 12));
      buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      buf[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
      buf[n++] = (char)(0xF0 | (cp >> 18));
      buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
      buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      buf[n++] = (char)(0x80 | (cp & 0x3F));
    }
  }
  buf[n] = '\0';
  *out = buf;
  return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_number(kj_parser *p, kj_value *v) {
  size_t st = p->pos;
  if (p->pos < p->len && p->s[p->pos] == '-')
    p->pos++;
  if (p->pos >= p->len || !is_digit(p->s[p->pos]))
    return fail(p, "invalid number");
  if (p->s[p->pos] == '0')
    p->pos++;
  else
    while (p->pos < p->len && is_digit(p->s[p->pos]))
      p->pos++;
  if (p->pos < p->len && p->s[p->pos] == '.') {
    p->pos++;
    if (p->pos >= p->len || !is_digit(p->s[p->pos]))
      return fail(p, "invalid number fraction");
    while (p->pos < p->len && is_digit(p->s[p->pos]))
      p->pos++;
  }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    p->pos++;
    if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
      p->pos++;
    if (p->pos >= p->len || !is_digit(p->s[p->pos]))
      return fail(p, "invalid number exponent");
    while (p->pos < p->len && is_digit(p->s[p->pos]))
      p->pos++;
  }
  v->type = KJ_NUMBER;
  v->text = (char *)malloc(p->pos - st + 1);
  if (!v->text)
    return fail(p, "out of memory");
  memcpy(v->text, p->s + st, p->pos - st);
  v->text[p->pos - st] = '\0';
  return 1;
}

static int literal(kj_parser *p, const char *w) {
  size_t n = strlen(w);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
    return fail(p, "invalid literal");
  p->pos += n;
  return 1;
}

static int parse_value(kj_parser *p, kj_value *v, int depth);

static int push(kj_parser *p, kj_value *v, size_t *cap, char *key) {
  if (v->count == *cap) {
    size_t nc = *cap ? *cap * 2 : 4;
    kj_value *ni = (kj_value *)realloc(v->items, nc * sizeof *ni);
    if (!ni)
      return fail(p, "out of memory");
    v->items = ni;
    if (v->type == KJ_OBJECT) {
      char **nk = (char **)realloc(v->keys, nc * sizeof *nk);
      if (!nk)
        return fail(p, "out of memory");
      v->keys = nk;
    }
    *cap = nc;
  }
  memset(&v->items[v->count], 0, sizeof v->items[0]);
  if (v->type == KJ_OBJECT)
    v->keys[v->count] = key;
  v->count++;
  return 1;
}

static int parse_container(kj_parser *p, kj_value *v, int depth) {
  const int obj = p->s[p->pos] == '{';
  const char close = obj ? '}' : ']';
  size_t cap = 0;
  v->type = obj ? KJ_OBJECT : KJ_ARRAY;
  p->pos++;
  ws(p);
  if (p->pos < p->len && p->s[p->pos] == close) {
    p->pos++;
    return 1;
  }
  for (;;) {
    char *key = NULL;
    ws(p);
    if (obj) {
      size_t i;
      if (p->pos >= p->len || p->s[p->pos] != '"')
        return fail(p, "expected a string key");
      if (!parse_string(p, &key))
        return 0;
      for (i = 0; i < v->count; ++i)
        if (strcmp(v->keys[i], key) == 0) {
          free(key);
          return fail(p, "duplicate object key");
        }
      ws(p);
      if (p->pos >= p->len || p->s[p->pos] != ':') {
        free(key);
        return fail(p, "expected ':'");
      }
      p->pos++;
    }
    if (!push(p, v, &cap, key)) {
      free(key);
      return 0;
    }
    if (!parse_value(p, &v->items[v->count - 1], depth + 1))
      return 0;
    ws(p);
    if (p->pos >= p->len)
      return fail(p, "unterminated container");
    if (p->s[p->pos] == ',') {
      p->pos++;
      continue;
    }
    if (p->s[p->pos] == close) {
      p->pos++;
      return 1;
    }
    return fail(p, "expected ',' or closing bracket");
  }
}

static int parse_value(kj_parser *p, kj_value *v, int depth) {
  memset(v, 0, sizeof *v);
  if (depth > KJ_MAX_DEPTH)
    return fail(p, "nesting too deep");
  ws(p);
  if (p->pos >= p->len)
    return fail(p, "unexpected end of input");
  switch (p->s[p->pos]) {
  case '{':
  case '[':
    return parse_container(p, v, depth);
  case '"':
    v->type = KJ_STRING;
    return parse_string(p, &v->text);
  case 't':
    v->type = KJ_BOOL;
    v->boolean = 1;
    return literal(p, "true");
  case 'f':
    v->type = KJ_BOOL;
    return literal(p, "false");
  case 'n':
    v->type = KJ_NULL;
    return literal(p, "null");
  default:
    return parse_number(p, v);
  }
}

int kj_parse(const char *text, size_t len, kj_value *out, char *err,
             size_t errcap) {
  kj_parser p;
  p.s = text;
  p.len = len;
  p.pos = 0;
  p.err = err;
  p.errcap = errcap;
  if (err && errcap)
    err[0] = '\0';
  if (!parse_value(&p, out, 0)) {
    kj_free(out);
    return 0;
  }
  ws(&p);
  if (p.pos != p.len) {
    kj_free(out);
    return fail(&p, "trailing characters after the value");
  }
  return 1;
}

void kj_free(kj_value *v) {
  size_t i;
  if (!v)
    return;
  for (i = 0; i < v->count; ++i) {
    kj_free(&v->items[i]);
    if (v->keys)
      free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->text);
  memset(v, 0, sizeof *v);
}

int kj_get_u64(const kj_value *v, uint64_t *out) {
  const char *s;
  uint64_t r = 0;
  if (v->type != KJ_NUMBER || !v->text)
    return 0;
  for (s = v->text; *s; ++s) {
    unsigned d;
    if (!is_digit(*s))
      return 0;
    d = (unsigned)(*s - '0');
    if (r > (UINT64_MAX - d) / 10)
      return 0;
    r = r * 10 + d;
  }
  *out = r;
  return 1;
}
