/*===- status.c - status strings and the thread-local error -----*- C -*-===*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#if defined(__GNUC__)
#define KAN_THREAD_LOCAL __thread
#else
#define KAN_THREAD_LOCAL
#endif

/* Thread-local so concurrent readers on different threads keep their own
   message; fixed size so reporting an error never allocates. */
static KAN_THREAD_LOCAL char last_error[1024];

const char *kan_status_string(kan_status status) {
  switch (status) {
  case KAN_OK: return "ok";
  case KAN_ERR_INVALID_ARGUMENT: return "invalid argument";
  case KAN_ERR_OUT_OF_MEMORY: return "out of memory";
  case KAN_ERR_IO: return "I/O error";
  case KAN_ERR_FORMAT: return "format error";
  case KAN_ERR_UNSUPPORTED: return "unsupported";
  case KAN_ERR_NONFINITE: return "non-finite value";
  case KAN_ERR_OVERFLOW: return "size overflow";
  case KAN_ERR_NOT_FOUND: return "not found";
  case KAN_ERR_MISMATCH: return "mismatch";
  }
  return "unknown status";
}

const char *kan_last_error(void) { return last_error; }

void kan_clear_error(void) { last_error[0] = '\0'; }

kan_status kan_set_error(kan_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return st;
}

const char *kan_version_string(void) {
#define KAN_STR2(x) #x
#define KAN_STR(x) KAN_STR2(x)
  return KAN_STR(KANRT_VERSION_MAJOR) "." KAN_STR(
      KANRT_VERSION_MINOR) "." KAN_STR(KANRT_VERSION_PATCH);
}

int kan_host_little_endian(void) {
  const uint32_t one = 1;
  unsigned char b[sizeof one];
  memcpy(b, &one, sizeof one);
  return b[0] == 1;
}

char *kan_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *r = (char *)malloc(n);
  if (r)
    memcpy(r, s, n);
  return r;
}
