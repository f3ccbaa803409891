/*===- math.h - the libm prototypes an NMC core program may use -----------===*
 *
 * For `make nmc-check` only: the host compiler builds the core sources in
 * an NMC-like mode (-m32 -ffreestanding -nostdinc -D__NM__) against these
 * declarations, so every call into the vendor's C library stays an
 * undefined symbol that nmc-check compares with vendor-symbols.txt. The
 * prototypes are the C99 ones nmc-gcc's newlib declares.
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_CHECK_MATH_H
#define KAN_NMC_CHECK_MATH_H

double exp(double);
double log(double);
double sqrt(double);
double floor(double);
double ceil(double);
double fabs(double);
double sin(double);
double cos(double);
double tanh(double);
double pow(double, double);
double fmod(double, double);
float expf(float);
float logf(float);
float sqrtf(float);
float floorf(float);
float fabsf(float);

#define HUGE_VAL (__builtin_huge_val())
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#define isfinite(x) __builtin_isfinite(x)
#define M_PI 3.14159265358979323846

#endif
