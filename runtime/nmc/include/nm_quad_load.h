/*===- nm_quad_load.h - NM Quad host load/exchange API (emulation) -------===*
 *
 * The subset of RC Module's host library used by the KAN launchers, with the
 * names, types and signatures of the vendor header nm_quad_load.h v7.2
 * (redistributed in barometech/PromeTorch docs/nmquad/nm_quad_load.h; the
 * MC127.05 sibling is B1kon/groovy include/mc12705load.h).  Differences that
 * cannot be avoided off Windows: DWORD becomes `unsigned int` (32 bits on
 * every supported host) and the DECLSPEC import decoration is dropped.
 *
 * With the real SDK its include directory comes first and this file is never
 * seen.  Under KAN_NMC_HOST_EMU it is implemented by libkanrt_nmc_emu: each
 * "board" is one emulated NM6408 chip with 16 cores run as threads.
 *
 * Addresses and lengths are in 32-bit words, never bytes.
 *===----------------------------------------------------------------------===*/
#ifndef __NM_QUAD_LOAD__H__
#define __NM_QUAD_LOAD__H__

#define PLOAD_VERSION "7.2"
#define PLOAD_MAJOR_VERSION 7
#define PLOAD_MINOR_VERSION 2

#ifdef __cplusplus
extern "C" {
#endif

/* 32 bit unsigned NM memory element type. */
typedef unsigned int PL_Word;
/* 32 bit unsigned NM address type (word address). */
typedef unsigned int PL_Addr;

/* Board descriptor (one NM6408 chip of the NM Quad). */
typedef struct PL_Board PL_Board;
/* Core descriptor. */
typedef struct PL_Access PL_Access;

/* Composite core number. */
typedef struct PL_CoreNo {
  int nm_id;      /* NM number inside the cluster, 0..3 (any ARM: -1) */
  int cluster_id; /* cluster number, 0..3 (central ARM: -1) */
} PL_CoreNo;

/* Library function return values (all functions return a result code). */
enum RetValue {
  PL_OK = 0,              /* Ok */
  PL_ERROR = 1,           /* Error */
  PL_TIMEOUT = 2,         /* Timeout of wait for operation */
  PL_FILE = 3,            /* Failed find file for load */
  PL_BADADDRESS = 4,      /* Bad address ranges */
  PL_AGAIN = 5,           /* Try again */
  PL_NOT_IMPLEMENTED = -1 /* Not implemented */
};

/* Status bits returned by PL_GetStatus.  The vendor header declares them as
 * `const PL_Word` objects; an enum keeps the same names and values without
 * defining an object in every C translation unit. */
enum PL_ProgramStatus {
  PROGRAM_NO = 0x0,
  PROGRAM_PROGRESS = 0x1,
  PROGRAM_FINISHED = 0x2,
  PROGRAM_EXCEPTION = 0x4
};

/*--- Common functions ---*/
int PL_GetVersion(unsigned int *version_major, unsigned int *version_minor);
/* Number of detected boards (emulation: KAN_NMC_CHIPS, default 4). */
int PL_GetBoardCount(unsigned int *count);
/* Descriptor for board number `index` (from 0). */
int PL_GetBoardDesc(unsigned int index, PL_Board **board);
int PL_CloseBoardDesc(PL_Board *board);

/*--- Board functions ---*/
int PL_ResetBoard(PL_Board *board);
int PL_LoadInitCode(PL_Board *board);
int PL_GetAccess(PL_Board *board, PL_CoreNo *coreNo, PL_Access **access);
int PL_CloseAccess(PL_Access *access);

/*--- Processor functions ---*/
/* Load user program on processor from file and start execution. */
int PL_LoadProgramFile(PL_Access *access, const char *filename);
/* Read `len` words at board word address `address` into `block`. */
int PL_ReadMemBlock(PL_Access *access, PL_Word *block, PL_Addr address,
                    unsigned int len);
/* Write `len` words from `block` to board word address `address`. */
int PL_WriteMemBlock(PL_Access *access, const PL_Word *block, PL_Addr address,
                     unsigned int len);
/* Barrier with the program on the core; sends `value`, receives the core's. */
int PL_Sync(PL_Access *access, int value, int *returnValue);
/* PL_Sync plus an (address, length) pair each way.  Outputs may be NULL. */
int PL_SyncArray(PL_Access *access, int value, PL_Addr outAddress,
                 PL_Word outLen, int *returnValue, PL_Addr *inAddress,
                 PL_Word *inLen);
/* Timeout in milliseconds for all PL_SyncXXX functions. */
int PL_SetTimeout(unsigned int timeout);
int PL_GetStatus(PL_Access *access, PL_Word *status);
int PL_GetResult(PL_Access *access, PL_Word *result);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* __NM_QUAD_LOAD__H__ */
