/* Core program exceeding the bank 0 buffer budget by one word. */
#include "kan_nmc.h"

KAN_NMC_BANK_BUFFER(0, kan_nmc_word, too_big, KAN_NMC_BANK0_BUFFER_WORDS + 1);

int KAN_NMC_CORE_MAIN(void) { return (int)too_big[0]; }
