/*===- nm6408load_nmc.h - NM6408 core-side load/exchange API (emulation) -===*
 *
 * Same declarations as RC Module's nm6408load_nmc.h (redistributed in
 * barometech/PromeTorch docs/nmquad/nm6408load_nmc.h).  With the real SDK
 * the vendor header is found first; under KAN_NMC_HOST_EMU these functions
 * are implemented by libkanrt_nmc_emu for the calling core thread.
 *===----------------------------------------------------------------------===*/
#ifndef __NM6408LOAD_NMC_H__
#define __NM6408LOAD_NMC_H__

#ifdef __cplusplus
extern "C" {
#endif

struct ncl_ProcessorNo {
  int cluster_id;
  int core_id;
};

const char *ncl_getBoardName(void);
/* Core number inside its cluster, 0..3. */
int ncl_getCoreID(void);
/* Cluster number, 0..3. */
int ncl_getClusterID(void);
void ncl_getProcessorNo(struct ncl_ProcessorNo *ProcessorNo);

/* Barrier with the host's PL_Sync: sends `value`, returns the host's value. */
int ncl_hostSync(int value);
/* Barrier with the host's PL_SyncArray; inArray/inLen may be NULL. */
int ncl_hostSyncArray(int value, void *outArray, unsigned int outLen,
                      void **inArray, unsigned int *inLen);

void ncl_icache_dis(void);
void ncl_icache_ena(void);
void ncl_icache_inv(void);

#ifdef __cplusplus
}
#endif

#endif /* __NM6408LOAD_NMC_H__ */
