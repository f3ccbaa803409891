/* cpu_peak.c - the floating-point peak of one core, from the vector width the
 * CPU has (cpuid), its clock (measured) and its FMA issue rate (measured).
 *
 *   cpu_peak [--ms T]
 *
 * Prints one JSON line:
 *   {"bench": "cpu_peak", "cpu": ..., "clock_ghz": ..., "vector_bits": 512|256|128,
 *    "fma": true|false, "fma_per_cycle": ..., "fma_units": ..., "peak_gflops_f64": ...,
 *    "peak_gflops_f32": ..., "fma_loop_gflops_f64": ..., "isa": "avx512f"|...}
 *
 * clock_ghz: a chain of dependent register-register integer adds retires one
 *   add per cycle on every x86-64 core, so adds / second is the clock the core
 *   runs at under load (turbo included, unlike the TSC). Best of several runs:
 *   time stolen by other jobs on a shared machine only lowers a run.
 * fma_per_cycle: independent full-width FMAs (12 accumulators, more than
 *   latency x units on current cores) per cycle: the best of 25 runs over the
 *   highest clock measured around them per measured cycle; fma_units rounds it
 *   to a multiple of 1/2 (a core that splits 512-bit operations into two
 *   256-bit halves reports 1 where its AVX2 rate is 2).
 * peak = clock x lanes x 2 (multiply and add) x fma_units. Without FMA the
 *   loop issues one multiply and one add per accumulator (the same count of
 *   2 flops per lane and pair). fma_loop_gflops_f64: the FMA loop's best run.
 * The vector width is the widest the CPU has: avx512f 512, avx 256, else 128.
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* n x 16 dependent adds. */
static void add_chain(long n) {
  long a = 0, b = 1;
  __asm__ volatile("1:\n\t"
                   "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                   "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                   "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                   "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                   "dec %2\n\tjnz 1b"
                   : "+r"(a), "+r"(b), "+r"(n)
                   :
                   : "cc");
}

/* Best (highest) clock over `tries` runs of about ms milliseconds each. */
static double measure_clock(double ms, int tries) {
  long n = 1 << 10;
  double best = 0, t;
  /* Calibrate n so one run takes about ms. */
  for (;;) {
    double t0 = now_s();
    add_chain(n);
    t = now_s() - t0;
    if (t > ms * 1e-3 / 4 || n > (1L << 40))
      break;
    n *= 2;
  }
  n = (long)(n * (ms * 1e-3 / t)) + 1;
  for (int i = 0; i < tries; ++i) {
    double t0 = now_s();
    add_chain(n);
    t = now_s() - t0;
    if (16.0 * n / t > best)
      best = 16.0 * n / t;
  }
  return best;
}

/* Each issues n x 12 independent vector FMAs (or multiply+add pairs) on
   registers (written in assembly so the compiler's unrolling and register
   allocation do not decide the result). 12
   accumulators cover latency x units of current cores (4 x 2, 5 x 2). */
#define ACC 12
#define R12(OP, V)                                                             \
  OP(V "4") OP(V "5") OP(V "6") OP(V "7") OP(V "8") OP(V "9") OP(V "10")       \
      OP(V "11") OP(V "12") OP(V "13") OP(V "14") OP(V "15")
#define FMA_Z(r) "vfmadd231pd %%zmm1, %%zmm2, %%" r "\n\t"
#define FMA_Y(r) "vfmadd231pd %%ymm1, %%ymm2, %%" r "\n\t"
#define MUL_X(r) "mulpd %%xmm1, %%" r "\n\t"
#define ADD_X(r) "addpd %%xmm2, %%" r "\n\t"
#define ZERO_Z(r) "vxorpd %%" r ", %%" r ", %%" r "\n\t"
#define ZERO_X(r) "xorpd %%" r ", %%" r "\n\t"

__attribute__((target("avx512f"))) static void fma512(long n) {
  __asm__ volatile(R12(ZERO_Z, "zmm") "vxorpd %%zmm1, %%zmm1, %%zmm1\n\t"
                   "vxorpd %%zmm2, %%zmm2, %%zmm2\n\t"
                   "1:\n\t" R12(FMA_Z, "zmm") "dec %0\n\tjnz 1b\n\tvzeroupper"
                   : "+r"(n)
                   :
                   : "cc", "xmm1", "xmm2", "xmm4", "xmm5", "xmm6", "xmm7",
                     "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                     "xmm14", "xmm15");
}
__attribute__((target("avx2,fma"))) static void fma256(long n) {
  __asm__ volatile(R12(ZERO_Z, "ymm") "vxorpd %%ymm1, %%ymm1, %%ymm1\n\t"
                   "vxorpd %%ymm2, %%ymm2, %%ymm2\n\t"
                   "1:\n\t" R12(FMA_Y, "ymm") "dec %0\n\tjnz 1b\n\tvzeroupper"
                   : "+r"(n)
                   :
                   : "cc", "xmm1", "xmm2", "xmm4", "xmm5", "xmm6", "xmm7",
                     "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                     "xmm14", "xmm15");
}
/* Without FMA: one multiply and one add per accumulator and iteration (the
   multiplies and adds of different accumulators are independent). */
static void mul128(long n) {
  __asm__ volatile(R12(ZERO_X, "xmm") "xorpd %%xmm1, %%xmm1\n\t"
                   "xorpd %%xmm2, %%xmm2\n\t"
                   "1:\n\t" R12(MUL_X, "xmm") R12(ADD_X, "xmm")
                   "dec %0\n\tjnz 1b"
                   : "+r"(n)
                   :
                   : "cc", "xmm1", "xmm2", "xmm4", "xmm5", "xmm6", "xmm7",
                     "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                     "xmm14", "xmm15");
}

int main(int argc, char **argv) {
  double ms = 50;
  for (int a = 1; a < argc; ++a) {
    if (!strcmp(argv[a], "--ms") && a + 1 < argc)
      ms = atof(argv[++a]);
    else {
      fprintf(stderr, "usage: cpu_peak [--ms T]\n");
      return 2;
    }
  }
  if (!(ms > 0))
    ms = 50;
  __builtin_cpu_init();
  const int has512 = __builtin_cpu_supports("avx512f");
  const int has_avx = __builtin_cpu_supports("avx");
  const int has_fma = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
  const int bits = has512 ? 512 : has_avx ? 256 : 128;
  void (*loop)(long) = has512 ? fma512 : has_fma ? fma256 : mul128;
  const char *isa = has512 ? "avx512f" : has_fma ? "avx2+fma" : "sse2 (mul+add)";
  if (!has512 && has_avx && !has_fma) {
    /* AVX without FMA (Sandy/Ivy Bridge): rated on 128-bit mul+add. */
    loop = mul128;
    isa = "sse2 (mul+add)";
  }

  /* FMA rate: calibrate, then 25 short rounds of (clock, FMA loop, clock):
     the frequency of a shared or virtual core moves, so the clock is
     measured around every run. Other jobs only slow a run down (on a virtual
     core, a job on the host's sibling hardware thread halves the FMA rate
     but not the add chain), so both are the highest seen; short runs make a
     quiet moment likelier to be caught. */
  double best = 0, hz = 0;
  long n = 1 << 12;
  for (;;) {
    double t0 = now_s();
    loop(n);
    double t = now_s() - t0;
    if (t > ms * 1e-3 / 10 || n > (1L << 36))
      break;
    n *= 2;
  }
  for (int i = 0; i < 25; ++i) {
    const double h0 = measure_clock(ms / 10, 2);
    double t0 = now_s();
    loop(n);
    const double ops = (double)n * ACC;
    double t = now_s() - t0;
    const double h1 = measure_clock(ms / 10, 2);
    const double h = h0 > h1 ? h0 : h1;
    if (ops / t > best)
      best = ops / t;
    if (h > hz)
      hz = h;
  }
  const int loop_bits = loop == mul128 ? 128 : bits;
  const double per_cycle = best / hz;
  const double units = fmax(0.5, round(per_cycle * 2) / 2);
  const int lanes64 = loop_bits / 64;
  char cpu[256] = "unknown";
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "model name", 10)) {
        char *p = strchr(line, ':');
        if (p) {
          p += 1 + strspn(p + 1, " \t");
          p[strcspn(p, "\n")] = 0;
          snprintf(cpu, sizeof cpu, "%s", p);
        }
        break;
      }
    fclose(f);
  }
  for (char *p = cpu; *p; ++p)
    if (*p == '"' || *p == '\\')
      *p = ' ';
  const double peak64 = hz * lanes64 * 2 * units * 1e-9;
  printf("{\"bench\": \"cpu_peak\", \"cpu\": \"%s\", \"isa\": \"%s\", "
         "\"clock_ghz\": %.3f, \"vector_bits\": %d, \"fma\": %s, "
         "\"fma_per_cycle\": %.3f, \"fma_units\": %.1f, \"peak_gflops_f64\": %.2f, "
         "\"peak_gflops_f32\": %.2f, \"fma_loop_gflops_f64\": %.2f}\n",
         cpu, isa, hz * 1e-9, loop_bits, has_fma ? "true" : "false", per_cycle, units,
         peak64, 2 * peak64, best * lanes64 * 2 * 1e-9);
  return 0;
}
