/*===- kan_nmc_axpy.h - FPU vector multiply-add of the dense update -------===*
 *
 * y[i] = y[i] + a[0] * x[i] for 0 <= i < n (n >= 0): on NMC the assembly
 * kernel kan_nmc_axpy_f64.s an emitted folder carries (its generator is
 * lib/Target/NMQuad/Kernels/Axpy.cpp), under host emulation the C loop of
 * kan_nmc_emu_axpy.c (or, with `make host-emu-sim`, the folder's assembly
 * in the simulator). a is a pointer so that the scalar reaches the FPU by
 * a vector load. x and y should sit in different banks.
 *===----------------------------------------------------------------------===*/
#ifndef KAN_NMC_AXPY_H
#define KAN_NMC_AXPY_H

#ifdef __cplusplus
extern "C" {
#endif

void kan_nmc_axpy_f64(const double *a, const double *x, double *y, int n);

#ifdef __cplusplus
}
#endif

#endif /* KAN_NMC_AXPY_H */
