/*===- kanrt/io.h - NPY, safetensors, IDX and CSV files ---------*- C -*-===*/
/** \file
 * Readers validate everything before touching data and fail with a
 * kan_status plus kan_last_error() naming the file and the problem; they
 * never read out of bounds. Writers are atomic: they write
 * `path.tmp.<pid>`, fsync it and rename it over path.
 *
 * Limits: files up to KAN_IO_MAX_BYTES bytes; at most KAN_MAX_DIMS
 * dimensions; NPY headers up to 1 MiB; safetensors headers up to 100 MB and
 * JSON nesting depth 64; IDX gzip streams inflate to at most
 * KAN_IO_MAX_BYTES; CSV up to 2^24 columns.
 */
#ifndef KANRT_IO_H
#define KANRT_IO_H

#include <stddef.h>

#include "kanrt/status.h"
#include "kanrt/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest file (or inflated gzip stream) a reader accepts: 16 GiB. */
#define KAN_IO_MAX_BYTES ((size_t)1 << 34)

/** Reader flag: reject NaN/Inf in floating-point data (KAN_ERR_NONFINITE). */
#define KAN_IO_CHECK_FINITE 1u

/** Reads an NPY file (versions 1.0, 2.0, 3.0; little-endian or
 * byte-order-free dtypes '<f4' '<f8' '|u1' '<i4' '<i8'; C order only). */
kan_status kan_npy_read(const char *path, unsigned flags, kan_tensor *out);
/** Parses NPY bytes held in memory; name is used in error messages. */
kan_status kan_npy_read_memory(const void *data, size_t size,
                               const char *name, unsigned flags,
                               kan_tensor *out);
/** Writes t as NPY version 1.0 (2.0 if the header needs it), atomically. */
kan_status kan_npy_write(const char *path, const kan_tensor *t);

/** Reads a safetensors file (dtypes F32, F64, I32, I64, U8). Tensors keep
 * the file's order of data offsets; `__metadata__` goes to the map's
 * metadata. Rejects duplicate names, overlapping or uncovered byte ranges,
 * sizes that disagree with shapes and any non-strict JSON. */
kan_status kan_safetensors_read(const char *path, unsigned flags,
                                kan_tensor_map *out);
/** Parses safetensors bytes held in memory; name is used in messages. */
kan_status kan_safetensors_read_memory(const void *data, size_t size,
                                       const char *name, unsigned flags,
                                       kan_tensor_map *out);
/** Writes the map (data in map order, header padded to 8 bytes). */
kan_status kan_safetensors_write(const char *path, const kan_tensor_map *m);

/** Reads an IDX file (MNIST family), plain or gzip-compressed (detected by
 * content), element type unsigned byte (0x08) only, into a U8 tensor with
 * the IDX dimensions. */
kan_status kan_idx_read(const char *path, kan_tensor *out);
/** Parses uncompressed IDX bytes held in memory. */
kan_status kan_idx_read_memory(const void *data, size_t size,
                               const char *name, kan_tensor *out);

/** Reads a CSV of numbers into an F64 rows x cols tensor. has_header skips
 * the first line. Separator ',', optional spaces around fields, '\n' or
 * "\r\n" line ends, blank lines ignored; every row must have the same number
 * of fields. Errors name "file:line:column". */
kan_status kan_csv_read(const char *path, int has_header, unsigned flags,
                        kan_tensor *out);
/** Parses CSV text held in memory; name is used in messages. */
kan_status kan_csv_read_memory(const void *data, size_t size,
                               const char *name, int has_header,
                               unsigned flags, kan_tensor *out);

#ifdef __cplusplus
}
#endif
#endif /* KANRT_IO_H */
