/*===- alloc.c - allocator settings for repeated model calls ----*- C -*-===*/
#include "kanrt/kanrt.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* Generated functions allocate their buffers per call. With glibc's
   defaults, buffers of a few MB are mmap()ed and unmapped (or trimmed from
   the heap) on every call, and the kernel zero-fills their pages again each
   time: a quarter of a training step's time on [784,64,10]. Keeping freed
   memory in the heap makes the next call reuse it. */
int kan_keep_freed_memory(void) {
#if defined(__GLIBC__)
  /* 32 MiB is glibc's upper bound for the mmap threshold on 64-bit. */
  int ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  ok &= mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  return ok ? 1 : 0;
#else
  return 0;
#endif
}
