//===- Distributed.cpp - kan-train across MPI ranks -------------*- C++ -*-===//
//
// See Distributed.h. The MPI calls are confined to this file and compiled
// only with KAN_WITH_MPI; without it every job has one rank and the
// collectives below are copies.
//
//===----------------------------------------------------------------------===//

#include "Distributed.h"

#include "kan/Support/Options.h"

#include "kanrt/kanrt.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#ifdef KAN_WITH_MPI
#include <mpi.h>
#endif

using namespace kan::train;
using namespace kan::tools;
namespace cl = llvm::cl;
namespace cli = mlir::kan::cli;
using llvm::Error;

llvm::cl::OptionCategory &kan::train::distributedCategory() {
  static cl::OptionCategory cat(
      "Training across processes (mpirun -np P kan-train ...)",
      "KAN_TRAIN_MPI=off in the environment keeps a kan-train built with MPI "
      "out of the job, as one built without it: started as one rank it "
      "trains as one process, as one of several it refuses to start");
  return cat;
}

static cl::opt<std::string> partitionOpt(
    "partition",
    cl::desc("How the ranks of an MPI job share a step: directions (every "
             "rank takes the whole batch and n/P of the directions; the same "
             "weights bit for bit as one process) or data (every rank takes "
             "B/P rows and all n directions; bit-identical across runs with "
             "the same P). Default under mpirun: directions. Without mpirun "
             "the same code runs with one rank. Rank 0 writes the checkpoint "
             "and the replay log"),
    cl::value_desc("directions|data"), cl::cat(distributedCategory()));
static cli::opt<int64_t> hashEveryOpt(
    "hash-every", cl::init(100),
    cl::desc("Compare the SHA-256 of the weights across the ranks every N "
             "steps, and at the start and the end (default 100; 0 = start "
             "and end only); a difference stops the run naming the step"),
    cli::bounds(cli::nonNegativeCount), cl::cat(distributedCategory()));
// Fault injection for the tests: "kill:R:S" (rank R dies by SIGKILL when it
// starts step S) or "flip:R:S" (rank R flips the sign of one weight after
// step S).
static cl::opt<std::string>
    faultOpt("mpi-test-fault", cl::Hidden,
             cl::desc("kill:RANK:STEP or flip:RANK:STEP"),
             cl::cat(distributedCategory()));

static Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

//===----------------------------------------------------------------------===//
// The job
//===----------------------------------------------------------------------===//

static int gRank = 0, gSize = 1;
#ifdef KAN_WITH_MPI
static bool gJoined = false;
#endif

/// The size of the job this process was launched in by an MPI launcher
/// (Open MPI, MPICH/Hydra or a PMI/PMIx launcher), 0 when none.
static long launchedSize() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char *v = std::getenv(var)) {
      long n = std::strtol(v, nullptr, 10);
      if (n > 0)
        return n;
    }
  return std::getenv("PMIX_RANK") ? 1 : 0;
}

/// A launch without MPI: one rank trains alone; several are refused, since
/// every rank would train alone and overwrite the others' files. `why` says
/// why there is no MPI.
static std::optional<std::string> withoutMpi(long launched,
                                             llvm::StringRef why) {
  if (launched > 1)
    return ("started as one of " + llvm::Twine(launched) + " MPI ranks, but " +
            why + "; every rank would train alone")
        .str();
  return std::nullopt;
}

std::optional<std::string> kan::train::initializeProcesses(int &argc,
                                                           char **&argv) {
  // KAN_TRAIN_MPI=off: the path of a build without MPI in a build with it
  // (a launcher whose MPI_Init fails can still start one rank, and the
  // tests reach the refusal below in either build).
  bool off = false;
  if (const char *v = std::getenv("KAN_TRAIN_MPI"); v && *v) {
    if (llvm::StringRef(v) != "on" && llvm::StringRef(v) != "off")
      return "KAN_TRAIN_MPI=" + std::string(v) +
             ": expected on (the default) or off";
    off = llvm::StringRef(v) == "off";
  }
  long launched = launchedSize();
  if (launched == 0)
    return std::nullopt;
#ifdef KAN_WITH_MPI
  if (off)
    return withoutMpi(launched, "KAN_TRAIN_MPI=off keeps this kan-train out "
                                "of the MPI job (unset it to join)");
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS)
    return std::string("MPI_Init failed");
  gJoined = true;
  std::atexit(finalizeProcesses);
  // Errors come back as codes and become messages naming the step.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &gRank);
  MPI_Comm_size(MPI_COMM_WORLD, &gSize);
  return std::nullopt;
#else
  (void)argc, (void)argv, (void)off;
  return withoutMpi(launched,
                    "this kan-train was built without MPI (install "
                    "libopenmpi-dev, see scripts/setup.sh, and rebuild)");
#endif
}

int kan::train::worldRank() { return gRank; }
int kan::train::worldSize() { return gSize; }

void kan::train::abortJob(int code) {
#ifdef KAN_WITH_MPI
  if (gJoined && gSize > 1) {
    llvm::errs().flush();
    MPI_Abort(MPI_COMM_WORLD, code);
  }
#endif
  (void)code;
}

void kan::train::finalizeProcesses() {
#ifdef KAN_WITH_MPI
  if (gJoined) {
    gJoined = false;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
      MPI_Finalize();
  }
#endif
}

#ifdef KAN_WITH_MPI
static Error mpiError(int code, const llvm::Twine &what, int64_t step) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return makeError(what + " at step " + llvm::Twine(step) + " failed on rank " +
                   llvm::Twine(gRank) + " of " + llvm::Twine(gSize) + ": " +
                   llvm::StringRef(text, len) +
                   " (did another rank die? mpirun then ends the job)");
}
#endif

//===----------------------------------------------------------------------===//
// A rank ended by a signal
//===----------------------------------------------------------------------===//

// mpirun ends every rank (SIGTERM, then SIGKILL) when one of them dies or the
// job is cancelled; a rank blocked in an exchange would never see a flag, so
// the handler says where the run stands and exits. The message is written
// with write(2) from buffers prepared outside the handler.
namespace {
struct SignalNote {
  char text[2][1024];
  volatile std::sig_atomic_t current = 0;
  volatile int64_t step = 0;
};
} // namespace
static SignalNote gNote;
static volatile std::sig_atomic_t gStopRequested = 0;

static size_t appendNumber(char *buf, size_t pos, size_t cap, int64_t v) {
  char digits[24];
  size_t n = 0;
  bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    digits[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u && n < sizeof(digits));
  if (neg && pos < cap)
    buf[pos++] = '-';
  while (n && pos < cap)
    buf[pos++] = digits[--n];
  return pos;
}

static size_t appendText(char *buf, size_t pos, size_t cap, const char *s) {
  while (*s && pos < cap)
    buf[pos++] = *s++;
  return pos;
}

extern "C" void kanTrainEndedBySignal(int sig) {
  char buf[1536];
  size_t cap = sizeof(buf), p = 0;
  p = appendText(buf, p, cap, "kan-train: error: rank ");
  p = appendNumber(buf, p, cap, gRank);
  p = appendText(buf, p, cap, " of ");
  p = appendNumber(buf, p, cap, gSize);
  p = appendText(buf, p, cap, ": ended by signal ");
  p = appendNumber(buf, p, cap, sig);
  p = appendText(buf, p, cap, " at step ");
  p = appendNumber(buf, p, cap, gNote.step);
  p = appendText(buf, p, cap, gNote.text[gNote.current]);
  ssize_t w = write(STDERR_FILENO, buf, p);
  (void)w;
  _exit(128 + sig);
}

extern "C" void kanTrainStopRequested(int) { gStopRequested = 1; }

void Distributed::noteCheckpoint(const std::string &path, int64_t step) {
  lastCheckpoint = path;
  lastCheckpointStep = step;
  int next = 1 - gNote.current;
  std::string tail =
      rank == 0 ? " (mpirun ends every rank when one fails or the job is "
                  "cancelled); the checkpoint " +
                      path + " of step " + std::to_string(step) +
                      " is intact: continue with --resume " + path + "\n"
                : std::string(" (mpirun ends every rank when one fails or "
                              "the job is cancelled)\n");
  std::snprintf(gNote.text[next], sizeof(gNote.text[next]), "%s", tail.c_str());
  gNote.current = next;
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

/// Gathers every rank's block (counts/displs in doubles) into recv, in rank
/// order, on every rank.
static Error allgatherv(const std::vector<double> &send,
                        std::vector<double> &recv,
                        const std::vector<int> &counts,
                        const std::vector<int> &displs, int64_t step) {
#ifdef KAN_WITH_MPI
  if (gSize > 1) {
    int rc = MPI_Allgatherv(send.data(), static_cast<int>(send.size()),
                            MPI_DOUBLE, recv.data(), counts.data(),
                            displs.data(), MPI_DOUBLE, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
      return mpiError(rc, "the exchange of the JVP scalars", step);
    return Error::success();
  }
#endif
  (void)counts, (void)step;
  std::copy(send.begin(), send.end(), recv.begin() + displs[0]);
  return Error::success();
}

static Error allgatherBytes(const unsigned char *send, size_t n,
                            unsigned char *recv, int64_t step) {
#ifdef KAN_WITH_MPI
  if (gSize > 1) {
    int rc =
        MPI_Allgather(send, static_cast<int>(n), MPI_UNSIGNED_CHAR, recv,
                      static_cast<int>(n), MPI_UNSIGNED_CHAR, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
      return mpiError(rc, "the comparison of the weights", step);
    return Error::success();
  }
#endif
  (void)step;
  std::memcpy(recv, send, n);
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Distributed
//===----------------------------------------------------------------------===//

/// [begin, end) of part r when `total` items are split into `parts` nearly
/// equal runs (the first total % parts one longer).
static std::pair<int64_t, int64_t> share(int64_t total, int64_t parts,
                                         int64_t r) {
  int64_t base = total / parts, extra = total % parts;
  int64_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

// Payload of one rank in a step's exchange: loss, rank 0's clock, stop
// requests, then its scalars.
static constexpr int kHeader = 3;

llvm::Expected<std::unique_ptr<Distributed>>
Distributed::create(const TrainConfig &train, int64_t batch,
                    const OptimSetup &setup, uint64_t seed) {
  std::string partition = partitionOpt;
  if (partition.empty()) {
    if (gSize == 1)
      return nullptr;
    partition = "directions";
  }
  if (partition != "directions" && partition != "data")
    return makeError("--partition must be directions or data, not '" +
                     partition + "'");
  std::unique_ptr<Distributed> d(new Distributed());
  d->partition = partition;
  d->rank = gRank;
  d->size = gSize;
  d->train = train;
  d->setup = setup;
  d->seed = seed;
  d->batch = batch;
  d->hashEvery = hashEveryOpt;
  int64_t n = train.directions;
  if (partition == "directions" && n < gSize)
    return makeError("--partition directions: " + llvm::Twine(n) +
                     " directions cannot be shared by " + llvm::Twine(gSize) +
                     " ranks (at least one each; use --partition data or "
                     "more directions)");
  if (partition == "data" && batch < gSize)
    return makeError("--partition data: a batch of " + llvm::Twine(batch) +
                     " rows cannot be shared by " + llvm::Twine(gSize) +
                     " ranks (at least one row each)");
  d->counts.resize(gSize);
  d->displs.resize(gSize);
  int off = 0;
  for (int r = 0; r < gSize; ++r) {
    int64_t mine = partition == "directions"
                       ? share(n, gSize, r).second - share(n, gSize, r).first
                       : n;
    d->counts[r] = static_cast<int>(kHeader + mine);
    d->displs[r] = off;
    off += d->counts[r];
  }
  if (partition == "directions") {
    std::tie(d->dirBegin, d->dirEnd) = share(n, gSize, gRank);
    d->rowBegin = 0, d->rowEnd = batch;
  } else {
    d->dirBegin = 0, d->dirEnd = n;
    std::tie(d->rowBegin, d->rowEnd) = share(batch, gSize, gRank);
  }
  d->recvBuf.resize(static_cast<size_t>(off));
  if (!faultOpt.empty()) {
    llvm::SmallVector<llvm::StringRef> f;
    llvm::StringRef(faultOpt).split(f, ':');
    int64_t r, s;
    if (f.size() != 3 || (f[0] != "kill" && f[0] != "flip") ||
        f[1].getAsInteger(10, r) || f[2].getAsInteger(10, s))
      return makeError("--mpi-test-fault: expected kill:RANK:STEP or "
                       "flip:RANK:STEP, not '" +
                       faultOpt + "'");
  }
  // Under mpirun a signal ends the rank with a note of where the run stands
  // (see kanTrainEndedBySignal); SIGUSR1, which mpirun forwards to every
  // rank, stops the run at the next step with a checkpoint.
  if (gSize > 1) {
    std::signal(SIGTERM, kanTrainEndedBySignal);
    std::signal(SIGINT, kanTrainEndedBySignal);
    std::signal(SIGUSR1, kanTrainStopRequested);
    std::string none = d->rank == 0
                           ? " (mpirun ends every rank when one fails or the "
                             "job is cancelled); no checkpoint was written "
                             "yet\n"
                           : " (mpirun ends every rank when one fails or the "
                             "job is cancelled)\n";
    std::snprintf(gNote.text[0], sizeof(gNote.text[0]), "%s", none.c_str());
  }
  return d;
}

char AgreedError::ID = 0;

std::string kan::train::weightsSha256(Model &model, const OptimSetup &setup) {
  std::vector<kan_param> params = runtimeParams(model, setup);
  unsigned char h[32];
  kan_weights_sha256(params.size(), params.data(), h);
  return llvm::toHex(llvm::ArrayRef<uint8_t>(h, 32), /*LowerCase=*/true);
}

llvm::StringRef Distributed::partitionName() const { return partition; }

TrainConfig Distributed::engineConfig() const {
  TrainConfig c = train;
  c.firstDirection = dirBegin;
  c.directions = dirEnd - dirBegin;
  c.update = false;
  return c;
}

// One rank exchanges nothing.
uint64_t Distributed::bytesSentPerStep() const {
  return size > 1 ? 8 * static_cast<uint64_t>(counts[rank]) : 0;
}

uint64_t Distributed::bytesReceivedPerStep() const {
  return size > 1 ? 8 * static_cast<uint64_t>(recvBuf.size() - counts[rank])
                  : 0;
}

std::string Distributed::describe() const {
  return llvm::formatv("rank {0} of {1}, partition {2}: directions {3}..{4}, "
                       "rows {5}..{6} of each batch; {7} bytes sent and {8} "
                       "received per step",
                       rank, size, partition, dirBegin, dirEnd - 1, rowBegin,
                       rowEnd - 1, bytesSentPerStep(), bytesReceivedPerStep())
      .str();
}

/// The fault of --mpi-test-fault for this rank at `step`, if any.
static llvm::StringRef faultAt(int rank, int64_t step) {
  if (faultOpt.empty())
    return "";
  llvm::SmallVector<llvm::StringRef> f;
  llvm::StringRef(faultOpt).split(f, ':');
  int64_t r = -1, s = -1;
  f[1].getAsInteger(10, r);
  f[2].getAsInteger(10, s);
  return r == rank && s == step ? f[0] : "";
}

llvm::Expected<StepResult>
Distributed::step(Engine &engine, Model &model, const void *x,
                  const int64_t *labels, int64_t step, double elapsed,
                  unsigned stop, llvm::function_ref<double(double)> lrScaleFor,
                  std::vector<double> &alphas) {
  gNote.step = step;
  if (faultAt(rank, step) == "kill")
    std::raise(SIGKILL);
  if (gStopRequested)
    stop |= StopSignal;
  // This rank's share: its rows of the batch, its slice of the directions.
  size_t rowBytes =
      static_cast<size_t>(model.shape.widths[0]) * (model.shape.f32 ? 4 : 8);
  const char *xs = static_cast<const char *>(x) + rowBegin * rowBytes;
  double loss = 0;
  if (Error e = engine.trainStep(model, xs, labels + rowBegin, localRows(),
                                 seed, step, 1.0, loss, local))
    return std::move(e);
  sendBuf.assign(kHeader, 0.0);
  sendBuf[0] = loss;
  sendBuf[1] = rank == 0 ? elapsed : 0.0;
  sendBuf[2] = static_cast<double>(stop);
  sendBuf.insert(sendBuf.end(), local.begin(), local.end());
  if (Error e = allgatherv(sendBuf, recvBuf, counts, displs, step))
    return std::move(e);

  StepResult res;
  for (int r = 0; r < size; ++r)
    res.stop |= static_cast<unsigned>(recvBuf[displs[r] + 2]);
  res.elapsed = recvBuf[displs[0] + 1];
  int64_t n = train.directions;
  alphas.assign(static_cast<size_t>(n), 0.0);
  if (partition == "directions" || size == 1) {
    // Every rank computed the loss of the whole batch: take rank 0's.
    res.loss = recvBuf[displs[0]];
    int64_t d = 0;
    for (int r = 0; r < size; ++r)
      for (int i = kHeader; i < counts[r]; ++i)
        alphas[d++] = recvBuf[displs[r] + i];
  } else {
    // Each rank's values are means over its rows: weight them by the rows
    // and add them in rank order (the same bits on every rank, every run).
    double lossSum = 0;
    for (int r = 0; r < size; ++r) {
      auto [b0, b1] = share(batch, size, r);
      double rows = static_cast<double>(b1 - b0);
      const double *blk = recvBuf.data() + displs[r];
      lossSum += rows * blk[0];
      for (int64_t i = 0; i < n; ++i)
        alphas[i] += rows * blk[kHeader + i];
    }
    double total = static_cast<double>(batch);
    res.loss = lossSum / total;
    for (double &a : alphas)
      a /= total;
  }
  if (res.stop)
    return res;

  res.lrScale = lrScaleFor(res.elapsed);
  kan_optim_config oc{
      setup.kind, setup.dist, static_cast<uint32_t>(train.directions),
      seed,       train.lr,   train.density};
  std::vector<kan_param> params = runtimeParams(model, setup);
  if (int st = kan_optimizer_step_scaled(&oc, static_cast<uint32_t>(step),
                                         alphas.data(), res.lrScale,
                                         params.size(), params.data()))
    return runtimeError(st, "kan_optimizer_step");
  if (faultAt(rank, step) == "flip") {
    // The sign of the first weight: later updates cannot round it away.
    Tensor &t = model.tensors[setup.tensorIndex[0]];
    static_cast<unsigned char *>(t.data())[t.f32 ? 3 : 7] ^= 0x80;
  }
  if (hashEvery > 0 && (step + 1) % hashEvery == 0)
    if (auto h = checkWeights(model, step + 1); !h)
      return h.takeError();
  return res;
}

llvm::Expected<std::string> Distributed::checkWeights(Model &model,
                                                      int64_t step) {
  std::vector<kan_param> params = runtimeParams(model, setup);
  unsigned char mine[32];
  kan_weights_sha256(params.size(), params.data(), mine);
  std::vector<unsigned char> all(32 * static_cast<size_t>(size));
  if (Error e = allgatherBytes(mine, 32, all.data(), step))
    return std::move(e);
  auto hex = [&](int r) {
    return llvm::toHex(llvm::ArrayRef<uint8_t>(all.data() + 32 * r, 32),
                       /*LowerCase=*/true);
  };
  std::string differ;
  for (int r = 1; r < size; ++r)
    if (std::memcmp(all.data(), all.data() + 32 * r, 32) != 0)
      differ += (differ.empty() ? "" : ", ") + std::to_string(r) + " (" +
                hex(r).substr(0, 16) + "...)";
  if (!differ.empty())
    return llvm::make_error<AgreedError>(
        ("the weights of the ranks differ at step " + llvm::Twine(step) +
         ": rank 0 has SHA-256 " + hex(0).substr(0, 16) + "..., rank(s) " +
         differ +
         "; the ranks no longer train one model, so the run stops here (" +
         (lastCheckpoint.empty()
              ? std::string("no checkpoint was written")
              : "the checkpoint " + lastCheckpoint + " of step " +
                    std::to_string(lastCheckpointStep) + " is as it was") +
         ")")
            .str());
  return hex(rank);
}

bool Distributed::stopRequested() { return gStopRequested != 0; }
