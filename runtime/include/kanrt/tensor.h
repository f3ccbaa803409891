/*===- kanrt/tensor.h - owned n-d arrays and named tensor maps ---*- C -*-===*/
/** \file
 * The tensor value exchanged with the file readers/writers: a dtype, up to
 * KAN_MAX_DIMS dimensions and a malloc'ed C-order buffer it owns.
 */
#ifndef KANRT_TENSOR_H
#define KANRT_TENSOR_H

#include <stddef.h>

#include "kanrt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Maximum rank of a kan_tensor. */
#define KAN_MAX_DIMS 8

/** Element types. Values are part of the replay-log format: keep them. */
typedef enum kan_dtype {
  KAN_DTYPE_F32 = 0, /**< IEEE binary32 */
  KAN_DTYPE_F64 = 1, /**< IEEE binary64 */
  KAN_DTYPE_U8 = 2,  /**< unsigned 8-bit */
  KAN_DTYPE_I32 = 3, /**< signed 32-bit */
  KAN_DTYPE_I64 = 4  /**< signed 64-bit */
} kan_dtype;

/** An owned C-order array; shape[ndim..] are unused. ndim 0 is a scalar. */
typedef struct kan_tensor {
  kan_dtype dtype;            /**< element type */
  size_t ndim;                /**< rank, 0..KAN_MAX_DIMS */
  size_t shape[KAN_MAX_DIMS]; /**< dimensions */
  void *data;                 /**< malloc'ed, numel * element size bytes */
} kan_tensor;

/** Bytes of one element of dtype (0 for an invalid dtype). */
size_t kan_dtype_size(kan_dtype dtype);
/** Name of a dtype ("f32", "f64", "u8", "i32", "i64", "invalid"). */
const char *kan_dtype_name(kan_dtype dtype);
/** Product of the dimensions (1 for a scalar). */
size_t kan_tensor_numel(const kan_tensor *t);
/** Allocates a zero-filled tensor; rejects ndim > KAN_MAX_DIMS and sizes
 * whose byte count overflows (KAN_ERR_OVERFLOW). */
kan_status kan_tensor_alloc(kan_tensor *t, kan_dtype dtype, size_t ndim,
                            const size_t *shape);
/** Frees t->data and resets *t to an empty tensor (NULL is a no-op). */
void kan_tensor_free(kan_tensor *t);

/** An ordered map from names to tensors plus optional string metadata (the
 * safetensors `__metadata__`). Zero-initialise it (or kan_tensor_map_init)
 * before use; it owns its names, tensors and strings. */
typedef struct kan_tensor_map {
  size_t count;         /**< number of tensors */
  char **names;         /**< tensor names, count entries */
  kan_tensor *tensors;  /**< tensors, count entries */
  size_t meta_count;    /**< number of metadata entries */
  char **meta_keys;     /**< metadata keys */
  char **meta_values;   /**< metadata values */
} kan_tensor_map;

/** Makes an empty map. */
void kan_tensor_map_init(kan_tensor_map *m);
/** Frees everything the map owns and makes it empty. */
void kan_tensor_map_free(kan_tensor_map *m);
/** Adds a copy of t under name (KAN_ERR_INVALID_ARGUMENT if the name exists
 * or is empty). */
kan_status kan_tensor_map_add_copy(kan_tensor_map *m, const char *name,
                                   const kan_tensor *t);
/** Adds t under name taking ownership of t->data (t is reset on success). */
kan_status kan_tensor_map_add_move(kan_tensor_map *m, const char *name,
                                   kan_tensor *t);
/** The tensor named name, or NULL. */
kan_tensor *kan_tensor_map_find(const kan_tensor_map *m, const char *name);
/** Sets (or replaces) a metadata entry. */
kan_status kan_tensor_map_set_meta(kan_tensor_map *m, const char *key,
                                   const char *value);
/** The metadata value for key, or NULL. */
const char *kan_tensor_map_get_meta(const kan_tensor_map *m, const char *key);

#ifdef __cplusplus
}
#endif
#endif /* KANRT_TENSOR_H */
