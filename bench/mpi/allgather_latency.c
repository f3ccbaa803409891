/* Time of MPI_Allgatherv of the blocks kan-train exchanges per step:
 * block = 8 * (3 + k) bytes per rank (loss, clock, stop flags, k scalars).
 * Build: mpicc -O2 allgather_latency.c -o allgather_latency
 * Run:   mpirun -np P ./allgather_latency [k ...]   (default k = 64 128) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int ks[16], nk = 0;
  for (int i = 1; i < argc && nk < 16; ++i) ks[nk++] = atoi(argv[i]);
  if (nk == 0) ks[nk++] = 64, ks[nk++] = 128;
  for (int j = 0; j < nk; ++j) {
    int count = 3 + ks[j];
    double *send = calloc(count, sizeof(double));
    double *recv = calloc((size_t)count * size, sizeof(double));
    int *counts = malloc(sizeof(int) * size), *displs = malloc(sizeof(int) * size);
    for (int r = 0; r < size; ++r) counts[r] = count, displs[r] = r * count;
    const int warm = 200, iters = 2000;
    double t0 = 0;
    for (int i = 0; i < warm + iters; ++i) {
      if (i == warm) {
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = MPI_Wtime();
      }
      MPI_Allgatherv(send, count, MPI_DOUBLE, recv, counts, displs, MPI_DOUBLE,
                     MPI_COMM_WORLD);
    }
    double us = (MPI_Wtime() - t0) / iters * 1e6, worst;
    MPI_Reduce(&us, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0)
      printf("P=%d block=%d bytes: allgatherv %.2f us\n", size, 8 * count, worst);
    free(send), free(recv), free(counts), free(displs);
  }
  MPI_Finalize();
  return 0;
}
