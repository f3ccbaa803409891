/*===- driver.c - standalone fuzz driver when libFuzzer is absent -*- C -*-===*/
/* Replays every corpus file, then mutates corpus entries (bit flips,
   interesting bytes, insertions, deletions, truncation, splices) and feeds
   them to LLVMFuzzerTestOneInput until -max_total_time=S seconds or -runs=N
   inputs. Accepts the libFuzzer flags the scripts use; run it under
   AddressSanitizer/UBSan so a bug aborts the process. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  uint8_t *data;
  size_t size;
} input;

static input *corpus;
static size_t ncorpus, capcorpus;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void add_file(const char *path) {
  FILE *f = fopen(path, "rb");
  long n;
  input in;
  if (!f)
    return;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (n < 0 || n > (1 << 22)) {
    fclose(f);
    return;
  }
  in.size = (size_t)n;
  in.data = (uint8_t *)malloc(in.size ? in.size : 1);
  if (!in.data || fread(in.data, 1, in.size, f) != in.size) {
    free(in.data);
    fclose(f);
    return;
  }
  fclose(f);
  if (ncorpus == capcorpus) {
    capcorpus = capcorpus ? 2 * capcorpus : 16;
    corpus = (input *)realloc(corpus, capcorpus * sizeof *corpus);
  }
  corpus[ncorpus++] = in;
}

static void add_path(const char *path) {
  struct stat sb;
  DIR *d;
  struct dirent *e;
  if (stat(path, &sb) != 0)
    return;
  if (!S_ISDIR(sb.st_mode)) {
    add_file(path);
    return;
  }
  d = opendir(path);
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    char buf[4096];
    if (e->d_name[0] == '.')
      continue;
    snprintf(buf, sizeof buf, "%s/%s", path, e->d_name);
    add_path(buf);
  }
  closedir(d);
}

static size_t mutate(uint8_t *buf, size_t size, size_t cap) {
  static const uint8_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, '0', '9',
                                        ',', '\n', '"', '{', '}', '[', ']',
                                        ':', '-', 'e', '.', ' ', 0x93};
  int n = 1 + (int)(rnd() % 4), i;
  for (i = 0; i < n; ++i) {
    switch (rnd() % 7) {
    case 0: /* flip a bit */
      if (size)
        buf[rnd() % size] ^= (uint8_t)(1u << (rnd() % 8));
      break;
    case 1: /* interesting byte */
      if (size)
        buf[rnd() % size] = interesting[rnd() % sizeof interesting];
      break;
    case 2: /* random byte */
      if (size)
        buf[rnd() % size] = (uint8_t)rnd();
      break;
    case 3: /* insert a byte */
      if (size < cap) {
        size_t at = size ? rnd() % (size + 1) : 0;
        memmove(buf + at + 1, buf + at, size - at);
        buf[at] = interesting[rnd() % sizeof interesting];
        ++size;
      }
      break;
    case 4: /* delete a range */
      if (size) {
        size_t at = rnd() % size, len = 1 + rnd() % (size - at);
        if (len > 16)
          len = 1 + len % 16;
        memmove(buf + at, buf + at + len, size - at - len);
        size -= len;
      }
      break;
    case 5: /* truncate */
      if (size)
        size = rnd() % size;
      break;
    default: /* splice from another corpus entry */
      if (ncorpus) {
        const input *o = &corpus[rnd() % ncorpus];
        if (o->size) {
          size_t from = rnd() % o->size, len = 1 + rnd() % (o->size - from);
          size_t at = size ? rnd() % size : 0;
          if (at + len > cap)
            len = cap - at;
          memcpy(buf + at, o->data + from, len);
          if (at + len > size)
            size = at + len;
        }
      }
      break;
    }
  }
  return size;
}

int main(int argc, char **argv) {
  long max_time = 10, runs = -1, done = 0;
  int i;
  time_t start;
  uint8_t *buf;
  const size_t cap = 1 << 16;
  for (i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "-max_total_time=", 16) == 0)
      max_time = atol(argv[i] + 16);
    else if (strncmp(argv[i], "-runs=", 6) == 0)
      runs = atol(argv[i] + 6);
    else if (strncmp(argv[i], "-seed=", 6) == 0)
      rng_state = (uint64_t)atoll(argv[i] + 6) | 1;
    else if (argv[i][0] == '-')
      continue; /* other libFuzzer flags are accepted and ignored */
    else
      add_path(argv[i]);
  }
  for (i = 0; i < (int)ncorpus; ++i)
    LLVMFuzzerTestOneInput(corpus[i].data, corpus[i].size);
  printf("driver: replayed %zu corpus inputs\n", ncorpus);
  buf = (uint8_t *)malloc(cap);
  start = time(NULL);
  while ((runs < 0 || done < runs) && time(NULL) - start < max_time) {
    size_t size = 0;
    if (ncorpus) {
      const input *s = &corpus[rnd() % ncorpus];
      size = s->size < cap ? s->size : cap;
      memcpy(buf, s->data, size);
    }
    size = mutate(buf, size, cap);
    LLVMFuzzerTestOneInput(buf, size);
    ++done;
  }
  printf("driver: %ld mutated inputs in %ld s, no crash\n", done,
         (long)(time(NULL) - start));
  free(buf);
  return 0;
}
