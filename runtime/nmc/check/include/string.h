/*===- string.h - newlib prototypes for `make nmc-check` (see math.h) -----===*/
#ifndef KAN_NMC_CHECK_STRING_H
#define KAN_NMC_CHECK_STRING_H
#include <stddef.h>
void *memcpy(void *, const void *, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
int memcmp(const void *, const void *, size_t);
size_t strlen(const char *);
#endif
