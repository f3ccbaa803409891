/*===- kan_nmc_model_core.c - the command loop of an NM Quad core program -===*
 *
 * The static part of every core program kan-translate --target=nmquad
 * emits: it is built with the folder's model_core.c, which defines what
 * varies with the model (kan_nmc_kan.h: kan_nmc_kan_bind, the bank buffers
 * of this core, and kan_nmc_kan_program, one function per nmc.entry with
 * the model's DDR addresses). The host launcher (kan_nmc_launcher.c) drives
 * it: each KAN_SYNC_READY barrier returns the next command, whose
 * arguments are in the io block in chip DDR.
 *
 * C99 (gnu99) as nmc-gcc 4.8 accepts it; sizes and addresses in words.
 *===----------------------------------------------------------------------===*/
#include "kan_nmc_kan.h"

/* The io block's step-size factor (0: none given, 1). */
static double lr_scale_of(const kan_nmc_word *io) {
  double s = *(const double *)(io + KAN_IO_LR_SCALE);
  return s == 0.0 ? 1.0 : s;
}

/*===--- Training data in chip DDR (KAN_CMD_BATCH / TEST_ROWS / SCORE) ----===*
 * The batch order is kan-train's (lib/Tools/Data.cpp, BatchSampler): step s
 * takes positions [s B, s B + B) of the endless sequence of per-epoch
 * permutations, each a Fisher-Yates shuffle driven by Philox keyed by the
 * seed, counter (i, epoch, 0xDA7A). Core 0 of a chip shuffles an epoch
 * once into one of two slots of the data control block (a step spans at
 * most two epochs: B <= N), the cores then gather their share of the
 * chip's rows and map pixel bytes b to b / 127.5 - 1, kan-train's scaling.
 */

/* Permutation of epoch `e` of n samples into perm (DDR). One core
 * shuffles while the others wait at the barrier. The swap partners j of a
 * block of positions are drawn into the C tile first (Philox, no DDR), so
 * the DDR permit is held only while the block's swaps touch DDR. */
static void kan_nmc_kan_shuffle(const kan_nmc_kan_bufs *B, unsigned perm,
                                unsigned n, unsigned long long seed,
                                unsigned long long e) {
  kan_nmc_word *p, *js = (kan_nmc_word *)B->c;
  uint32_t key[2], ctr[4], w[4];
  unsigned i, hi, block = B->c_words;
  if (n == 0u)
    return;
  key[0] = (uint32_t)seed;
  key[1] = (uint32_t)(seed >> 32);
  kan_nmc_ddr_acquire();
  p = (kan_nmc_word *)kan_nmc_ddr_range(perm, n);
  for (i = 0; i < n; ++i)
    p[i] = i;
  kan_nmc_ddr_release();
  /* Positions hi, hi-1, ..., down to 1, in blocks of `block`. */
  for (hi = n - 1u; hi > 0u;) {
    unsigned cnt = hi < block ? hi : block, k;
    for (k = 0; k < cnt; ++k) {
      i = hi - k;
      ctr[0] = i;
      ctr[1] = (uint32_t)e;
      ctr[2] = (uint32_t)(e >> 32);
      ctr[3] = 0xDA7Au;
      kan_philox4x32_10(ctr, key, w);
      js[k] = (kan_nmc_word)(((unsigned long long)w[0] *
                              (unsigned long long)(i + 1u)) >>
                             32);
    }
    kan_nmc_ddr_acquire();
    for (k = 0; k < cnt; ++k) {
      kan_nmc_word t;
      i = hi - k;
      t = p[i];
      p[i] = p[js[k]];
      p[js[k]] = t;
    }
    kan_nmc_ddr_release();
    hi -= cnt;
  }
}

/* Image row `idx` (packed) as model values into DDR row `dst` of `inputs`
 * values, through the C tile in pieces. */
static void kan_nmc_kan_image_row(const kan_nmc_kan_bufs *B, unsigned images,
                                  unsigned idx, unsigned inputs, unsigned dst) {
  unsigned rw = KAN_DATA_ROW_WORDS(inputs);
  /* Pixels per piece: W words as a value + 1/4 word packed, 4 at a time. */
  unsigned piece = B->c_words * 4u / (4u * KAN_NMC_KAN_W + 1u) / 4u * 4u;
  unsigned p0, j;
  kan_nmc_real *vals = B->c;
  kan_nmc_word *packed;
  if (piece < 4u)
    piece = 4u;
  packed = (kan_nmc_word *)(B->c + piece);
  for (p0 = 0; p0 < inputs; p0 += piece) {
    unsigned len = kan_nmc_kan_min(piece, inputs - p0);
    unsigned w0 = p0 / 4u, nw = (len + 3u) / 4u;
    kan_nmc_kan_get(packed, images + idx * rw + w0, nw);
    for (j = 0; j < len; ++j) {
      unsigned b = (packed[j / 4u] >> (8u * (j % 4u))) & 0xFFu;
      vals[j] = (kan_nmc_real)((double)b / 127.5 - 1.0);
    }
    kan_nmc_kan_put(dst + KAN_NMC_KAN_W * p0, vals, KAN_NMC_KAN_W * len);
  }
}

/* Rows [0, io[ROWS]) of x (and, for a batch, the class indices at target):
 * a training batch drawn for io[STEP] (batch != 0), or the test rows from
 * io[TEST_ROW0] on. */
static void kan_nmc_kan_data_rows(int batch, const kan_nmc_word *io,
                                  const kan_nmc_kan_bufs *B,
                                  const kan_nmc_kan_core *cc, unsigned x,
                                  unsigned target, unsigned inputs) {
  unsigned rows = io[KAN_IO_ROWS], n = io[KAN_IO_DATA_ROWS];
  unsigned ctrl = io[KAN_IO_DATA_CTRL], r0, r1, r, off0 = 0;
  unsigned long long seed = (unsigned long long)io[KAN_IO_SEED_LO] |
                            (unsigned long long)io[KAN_IO_SEED_HI] << 32;
  unsigned long long e0 = 0;
  if (batch) {
    /* Position of row 0: epoch e0, offset off0 (one 64-bit division; the
     * rows reach at most into epoch e0 + 1 as B <= N). */
    unsigned long long first =
        (unsigned long long)io[KAN_IO_STEP] * io[KAN_IO_BATCH] +
        io[KAN_IO_ROW0];
    e0 = first / n;
    off0 = (unsigned)(first - e0 * n);
    if (cc->me == 0u && rows > 0u) {
      unsigned long long e, e1 = e0 + (off0 + rows - 1u >= n ? 1u : 0u);
      for (e = e0; e <= e1; ++e) {
        unsigned slot = (unsigned)(e & 1u);
        kan_nmc_kan_get(B->c, ctrl + KAN_DATA_CTRL_EPOCH + slot, 1u);
        if (*(kan_nmc_word *)B->c == (kan_nmc_word)(e + 1u))
          continue;
        kan_nmc_kan_shuffle(B, ctrl + KAN_DATA_CTRL_PERM + slot * n, n, seed,
                            e);
        *(kan_nmc_word *)B->c = (kan_nmc_word)(e + 1u);
        kan_nmc_kan_put(ctrl + KAN_DATA_CTRL_EPOCH + slot, B->c, 1u);
      }
    }
    kan_nmc_barrier((int)cc->ncores);
  }
  kan_nmc_kan_share(rows, cc, &r0, &r1);
  for (r = r0; r < r1; ++r) {
    unsigned idx;
    if (batch) {
      unsigned off = off0 + r, slot = (unsigned)(e0 & 1u);
      if (off >= n) {
        off -= n;
        slot ^= 1u;
      }
      kan_nmc_kan_get(B->c, ctrl + KAN_DATA_CTRL_PERM + slot * n + off, 1u);
      idx = *(kan_nmc_word *)B->c;
    } else {
      idx = io[KAN_IO_TEST_ROW0] + r;
    }
    kan_nmc_kan_image_row(B, batch ? io[KAN_IO_DATA] : io[KAN_IO_TEST], idx,
                          inputs, x + KAN_NMC_KAN_W * r * inputs);
    if (batch) {
      kan_nmc_kan_get(B->c, io[KAN_IO_DATA_LABELS] + idx, 1u);
      kan_nmc_kan_put(target + r, B->c, 1u);
    }
  }
}

/* Adds to this core's counter the rows [0, io[ROWS]) of y whose first
 * largest logit (kan-train's argmax) is the test label. */
static void kan_nmc_kan_score(const kan_nmc_word *io, const kan_nmc_kan_bufs *B,
                              const kan_nmc_kan_core *cc, unsigned y,
                              unsigned classes) {
  unsigned rows = io[KAN_IO_ROWS], ctrl = io[KAN_IO_DATA_CTRL], r0, r1, r, c;
  kan_nmc_word *cnt = (kan_nmc_word *)(B->c + classes + 1u);
  kan_nmc_kan_share(rows, cc, &r0, &r1);
  kan_nmc_kan_get(cnt, ctrl + KAN_DATA_CTRL_CORRECT + cc->me, 1u);
  for (r = r0; r < r1; ++r) {
    unsigned best = 0;
    kan_nmc_kan_get(B->c, y + KAN_NMC_KAN_W * r * classes,
                    KAN_NMC_KAN_W * classes);
    kan_nmc_kan_get(cnt + 1, io[KAN_IO_TEST_LABELS] + io[KAN_IO_TEST_ROW0] + r,
                    1u);
    for (c = 1; c < classes; ++c)
      if (B->c[c] > B->c[best])
        best = c;
    cnt[0] += best == cnt[1];
  }
  kan_nmc_kan_put(ctrl + KAN_DATA_CTRL_CORRECT + cc->me, cnt, 1u);
}

int KAN_NMC_CORE_MAIN(void) {
  const kan_nmc_kan_model *M = &kan_nmc_kan_program;
  unsigned paddr = 0, plen = 0;
  kan_nmc_kan_bufs B;
  kan_nmc_kan_core cc;
  kan_nmc_kan_cmd c;
  kan_nmc_sync_array(0, 0, 0, &paddr, &plen);
  kan_nmc_kan_bind(&B);
  cc.me = (unsigned)kan_nmc_core_index();
  cc.ncores = 1u;
  cc.split_outputs = M->split_outputs;
  for (;;) {
    int cmd = kan_nmc_sync(KAN_SYNC_READY);
    const kan_nmc_word *io;
    if (cmd == KAN_CMD_EXIT)
      break;
    io = (const kan_nmc_word *)kan_nmc_ddr_range(M->io, KAN_IO_WORDS);
    c.rows = io[KAN_IO_ROWS];
    cc.ncores = io[KAN_IO_CORES];
    c.seed = (unsigned long long)io[KAN_IO_SEED_LO] |
             (unsigned long long)io[KAN_IO_SEED_HI] << 32;
    c.step = io[KAN_IO_STEP];
    c.lr_scale = lr_scale_of(io);
    /* A command the program has no entry for is ignored, as the launcher
     * sends only what the model's tables say the program runs. */
    if (cmd == KAN_CMD_FORWARD && M->forward)
      M->forward(&B, &cc, &c);
    else if (cmd == KAN_CMD_TRAIN && M->train_step)
      M->train_step(&B, &cc, &c);
    else if (cmd == KAN_CMD_BATCH || cmd == KAN_CMD_TEST_ROWS)
      kan_nmc_kan_data_rows(cmd == KAN_CMD_BATCH, io, &B, &cc, M->x, M->target,
                            M->inputs);
    else if (cmd == KAN_CMD_SCORE)
      kan_nmc_kan_score(io, &B, &cc, M->y, M->outputs);
  }
  return 0;
}
