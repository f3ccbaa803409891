/*===- kanrt/status.h - status codes and error messages ---------*- C -*-===*/
/** \file
 * Return codes of every kanrt function that can fail, and the thread-local
 * message that explains the last failure (for I/O: the file and the problem).
 */
#ifndef KANRT_STATUS_H
#define KANRT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/** Result of a kanrt call. KAN_OK is 0 so `if (st)` tests for failure. */
typedef enum kan_status {
  KAN_OK = 0,                   /**< success */
  KAN_ERR_INVALID_ARGUMENT = 1, /**< a size, pointer or option is out of range */
  KAN_ERR_OUT_OF_MEMORY = 2,    /**< an allocation failed */
  KAN_ERR_IO = 3,               /**< open/read/write/rename failed */
  KAN_ERR_FORMAT = 4,           /**< a file is malformed (truncated, lying header) */
  KAN_ERR_UNSUPPORTED = 5,      /**< well-formed but unsupported (dtype, version) */
  KAN_ERR_NONFINITE = 6,        /**< NaN or Inf where finite data is required */
  KAN_ERR_OVERFLOW = 7,         /**< a size computation would overflow */
  KAN_ERR_NOT_FOUND = 8,        /**< a named tensor is missing */
  KAN_ERR_MISMATCH = 9          /**< data does not match what it is combined with */
} kan_status;

/** Short constant English name of a status code ("ok", "format error", ...). */
const char *kan_status_string(kan_status status);

/** Message describing the most recent failure on the calling thread, e.g.
 * "x.npy: header says 100 elements but file holds 40". Empty string when no
 * failure happened yet. Valid until the next failing kanrt call on the thread.
 */
const char *kan_last_error(void);

/** Clears the calling thread's error message. */
void kan_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif /* KANRT_STATUS_H */
