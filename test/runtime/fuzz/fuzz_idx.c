/*===- fuzz_idx.c - libFuzzer target for the IDX reader ---------*- C -*-===*/
/* Plain bytes go through the memory parser; inputs starting with the gzip
   magic go through a temporary file so the zlib path is fuzzed as well. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "kanrt/kanrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kan_tensor t;
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    char path[64];
    FILE *f;
    snprintf(path, sizeof path, "/tmp/kanrt-fuzz-idx.%ld.gz", (long)getpid());
    f = fopen(path, "wb");
    if (!f)
      return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    if (kan_idx_read(path, &t) == KAN_OK)
      kan_tensor_free(&t);
    remove(path);
    return 0;
  }
  if (kan_idx_read_memory(data, size, "fuzz.idx", &t) == KAN_OK)
    kan_tensor_free(&t);
  return 0;
}
