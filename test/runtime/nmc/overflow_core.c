/* Core program whose bank 5 cannot hold its buffers (10000 + 8000 words). */
#include "kan_nmc.h"

KAN_NMC_BANK_BUFFER(5, double, first, 5000);
KAN_NMC_BANK_BUFFER(5, double, second, 4000);

int KAN_NMC_CORE_MAIN(void) {
  first[0] = 1.0;
  second[0] = 2.0;
  return (int)(first[0] + second[0]);
}
