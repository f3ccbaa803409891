/*===- abi_c_check.c - the public headers are clean C99 ---------*- C -*-===*/
/* Compiled as -std=c99 -pedantic -Werror: a C consumer of kanrt.h. */
#include "kanrt/kanrt.h"

int kanrt_c_abi_check(void);

int kanrt_c_abi_check(void) {
  const uint32_t ctr[4] = {0, 0, 0, 0}, key[2] = {0, 0};
  uint32_t out[4];
  kan_tensor t;
  size_t shape[1];
  kan_philox4x32_10(ctr, key, out);
  shape[0] = 3;
  if (kan_tensor_alloc(&t, KAN_DTYPE_F64, 1, shape) != KAN_OK)
    return 1;
  kan_tensor_free(&t);
  return out[0] == 0x6627e8d5u ? 0 : 2;
}
