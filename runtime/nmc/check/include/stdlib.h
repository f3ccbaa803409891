/*===- stdlib.h - newlib prototypes for `make nmc-check` (see math.h) -----===*/
#ifndef KAN_NMC_CHECK_STDLIB_H
#define KAN_NMC_CHECK_STDLIB_H
#include <stddef.h>
void *malloc(size_t);
void *calloc(size_t, size_t);
void free(void *);
void qsort(void *, size_t, size_t, int (*)(const void *, const void *));
void abort(void);
#endif
