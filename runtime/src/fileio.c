/*===- fileio.c - whole-file reads and atomic writes ------------*- C -*-===*/
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

kan_status kan_read_file(const char *path, unsigned char **data,
                         size_t *size) {
  FILE *f;
  struct stat sb;
  unsigned char *buf;
  size_t n, got;
  *data = NULL;
  *size = 0;
  f = fopen(path, "rb");
  if (!f)
    return kan_set_error(KAN_ERR_IO, "%s: cannot open: %s", path,
                         strerror(errno));
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(f);
    return kan_set_error(KAN_ERR_IO, "%s: not a regular file", path);
  }
  if ((unsigned long long)sb.st_size > (unsigned long long)KAN_IO_MAX_BYTES) {
    fclose(f);
    return kan_set_error(KAN_ERR_UNSUPPORTED,
                         "%s: file of %lld bytes exceeds the %zu byte limit",
                         path, (long long)sb.st_size, KAN_IO_MAX_BYTES);
  }
  n = (size_t)sb.st_size;
  buf = (unsigned char *)malloc(n ? n : 1);
  if (!buf) {
    fclose(f);
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY,
                         "%s: cannot allocate %zu bytes", path, n);
  }
  got = fread(buf, 1, n, f);
  if (got != n || ferror(f)) {
    free(buf);
    fclose(f);
    return kan_set_error(KAN_ERR_IO, "%s: read %zu of %zu bytes", path, got,
                         n);
  }
  fclose(f);
  *data = buf;
  *size = n;
  return KAN_OK;
}

void kan_remove_stale_temps(const char *path) {
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  size_t dlen = slash ? (size_t)(slash - path) + 1 : 0, blen = strlen(base);
  char *dir = (char *)malloc(dlen + 2), *full;
  DIR *d;
  struct dirent *e;
  if (!dir)
    return;
  if (dlen)
    memcpy(dir, path, dlen), dir[dlen] = '\0';
  else
    strcpy(dir, ".");
  d = opendir(dir);
  while (d && (e = readdir(d)) != NULL) {
    const char *name = e->d_name, *num = name + blen + 5, *c;
    long pid;
    if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0)
      continue;
    for (c = num; *c >= '0' && *c <= '9'; ++c)
      ;
    if (c == num || *c || c - num > 9)
      continue;
    pid = strtol(num, NULL, 10);
    /* Only files of processes that no longer exist: a live one (this one, or
       another writer of the same path) is still writing its file. */
    if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
        errno != ESRCH)
      continue;
    full = (char *)malloc(dlen + strlen(name) + 1);
    if (!full)
      break;
    memcpy(full, path, dlen);
    strcpy(full + dlen, name);
    remove(full);
    free(full);
  }
  if (d)
    closedir(d);
  free(dir);
}

kan_status kan_write_file_atomic(const char *path, size_t nchunks,
                                 const void *const *chunks,
                                 const size_t *sizes) {
  char *tmp;
  size_t len = strlen(path) + 32, i;
  FILE *f;
  int err = 0;
  tmp = (char *)malloc(len);
  if (!tmp)
    return kan_set_error(KAN_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  kan_remove_stale_temps(path);
  snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
  f = fopen(tmp, "wb");
  if (!f) {
    kan_status st = kan_set_error(KAN_ERR_IO, "%s: cannot create %s: %s",
                                  path, tmp, strerror(errno));
    free(tmp);
    return st;
  }
  for (i = 0; i < nchunks && !err; ++i)
    if (sizes[i] && fwrite(chunks[i], 1, sizes[i], f) != sizes[i])
      err = errno ? errno : EIO;
  if (!err && fflush(f) != 0)
    err = errno;
  if (!err && fsync(fileno(f)) != 0)
    err = errno;
  if (fclose(f) != 0 && !err)
    err = errno;
  if (!err && rename(tmp, path) != 0)
    err = errno;
  if (err) {
    remove(tmp);
    free(tmp);
    return kan_set_error(KAN_ERR_IO, "%s: write failed: %s", path,
                         strerror(err));
  }
  free(tmp);
  return KAN_OK;
}

size_t kan_find_nonfinite(kan_dtype dtype, const void *data, size_t numel) {
  size_t i;
  if (dtype == KAN_DTYPE_F64) {
    const double *d = (const double *)data;
    for (i = 0; i < numel; ++i)
      if (!(d[i] - d[i] == 0))
        return i;
  } else if (dtype == KAN_DTYPE_F32) {
    const float *d = (const float *)data;
    for (i = 0; i < numel; ++i)
      if (!(d[i] - d[i] == 0))
        return i;
  }
  return (size_t)-1;
}
