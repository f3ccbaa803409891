/*===- json.h - a small strict JSON parser (RFC 8259) -----------*- C -*-===*/
#ifndef KANRT_JSON_H
#define KANRT_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { KJ_NULL, KJ_BOOL, KJ_NUMBER, KJ_STRING, KJ_ARRAY, KJ_OBJECT } kj_type;

/** A parsed value. Strings are NUL-terminated UTF-8 (an embedded NUL from
 * \u0000 is rejected); numbers keep their source text. */
typedef struct kj_value {
  kj_type type;
  int boolean;
  char *text;              /* string contents or number text */
  size_t count;            /* array items / object members */
  struct kj_value *items;  /* values */
  char **keys;             /* object keys (NULL for arrays) */
} kj_value;

/** Parses exactly one JSON value from text[0..len) (surrounding whitespace
 * allowed). On failure returns 0 and writes a message with the byte offset
 * into err. */
int kj_parse(const char *text, size_t len, kj_value *out, char *err,
             size_t errcap);
/** Frees a parsed value. */
void kj_free(kj_value *v);
/** Non-negative integer without fraction/exponent that fits uint64. */
int kj_get_u64(const kj_value *v, uint64_t *out);

#endif /* KANRT_JSON_H */
