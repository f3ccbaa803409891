//===- Distributed.h - kan-train across MPI ranks ---------------*- C++ -*-===//
//
// noise_step describes a step by its seed and n JVP scalars, so the ranks of
// an MPI job exchange those scalars, never gradients or weights, and every
// rank applies the same update (kan_optimizer_step) to its own copy:
//
//  - directions: every rank takes the whole batch and computes the scalars
//    of its slice of the n directions; an allgather gives all n;
//  - data: every rank takes a shard of the batch and computes all n
//    scalars over it; the shards' means are gathered and combined on every
//    rank in rank order (sum_r b_r * a_r / B in double), so a run is
//    bit-identical to another with the same number of ranks.
//
// Rank 0 writes the replay log and the checkpoints. The exchange of a step
// also carries rank 0's clock (the time budget and the learning-rate
// schedule follow it on every rank) and any rank's request to stop (a
// signal, the budget, a replay log that cannot be written), so every rank
// leaves the loop at the same step. Every --hash-every steps the ranks
// compare the SHA-256 of their weights.
//
// Without MPI (or outside mpirun) the same code runs with one rank.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_TRAIN_DISTRIBUTED_H
#define KAN_TRAIN_DISTRIBUTED_H

#include "kan/Tools/Engine.h"
#include "kan/Tools/Model.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace kan::train {

/// The options of this file (--partition, --hash-every).
llvm::cl::OptionCategory &distributedCategory();

/// Joins the MPI job when kan-train was started by mpirun (or another MPI
/// launcher); call it first thing in main. Without MPI support, or with
/// KAN_TRAIN_MPI=off in the environment, a launch with more than one rank
/// is an error (returned as a message), as is a KAN_TRAIN_MPI other than
/// on or off.
std::optional<std::string> initializeProcesses(int &argc, char **&argv);
/// This process's rank and the job's size (0 and 1 outside MPI).
int worldRank();
int worldSize();
/// Ends every rank of the job after an error only this rank has seen (a
/// no-op with one rank: the caller returns).
void abortJob(int code);
/// MPI_Finalize, when initializeProcesses joined a job.
void finalizeProcesses();

/// An error every rank meets at the same step (a weight mismatch): rank 0
/// reports it and the ranks end normally, without MPI_Abort.
class AgreedError : public llvm::ErrorInfo<AgreedError> {
public:
  static char ID;
  explicit AgreedError(std::string msg) : msg(std::move(msg)) {}
  void log(llvm::raw_ostream &os) const override { os << msg; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

private:
  std::string msg;
};

/// SHA-256 (hex) of the trainable weights in the replay log's table order
/// (kan_weights_sha256).
std::string weightsSha256(tools::Model &model, const tools::OptimSetup &setup);

/// Why the ranks stop, as any of them may ask (or-ed over the ranks).
constexpr unsigned StopNone = 0;
constexpr unsigned StopSignal = 1; ///< a signal (SIGUSR1 under mpirun)
constexpr unsigned StopBudget = 2; ///< rank 0's time budget is spent
constexpr unsigned StopLog = 4;    ///< rank 0 cannot write the replay log

/// One step as every rank sees it after the exchange.
struct StepResult {
  unsigned stop = StopNone; ///< or of the ranks' requests; nonzero: the step
                            ///< was not applied and the run stops
  double loss = 0;          ///< the batch loss (agreed)
  double elapsed = 0;       ///< rank 0's seconds since the start
  double lrScale = 1;       ///< the step-size factor applied
};

class Distributed {
public:
  /// The run's share for this rank per --partition and the job, or null
  /// for an ordinary run (no --partition, one process).
  static llvm::Expected<std::unique_ptr<Distributed>>
  create(const tools::TrainConfig &train, int64_t batch,
         const tools::OptimSetup &setup, uint64_t seed);

  bool isRoot() const { return rank == 0; }
  int rankIndex() const { return rank; }
  int ranks() const { return size; }
  llvm::StringRef partitionName() const;
  /// The train step this rank compiles: its slice of the directions (or all
  /// of them), without the update.
  tools::TrainConfig engineConfig() const;
  /// Rows of the batch this rank computes on.
  int64_t localRows() const { return rowEnd - rowBegin; }
  /// Bytes one rank sends and receives in the exchange of one step.
  uint64_t bytesSentPerStep() const;
  uint64_t bytesReceivedPerStep() const;
  /// A one-line description for the progress output.
  std::string describe() const;

  /// One step: this rank's scalars on (x, labels) (the whole batch, in the
  /// model's float type), exchanged with every rank; unless a rank asks to
  /// stop, every rank applies the update of all n scalars with the step size
  /// lrScaleFor(rank 0's elapsed). alphas receives the n scalars.
  llvm::Expected<StepResult> step(tools::Engine &engine, tools::Model &model,
                                  const void *x, const int64_t *labels,
                                  int64_t step, double elapsed, unsigned stop,
                                  llvm::function_ref<double(double)> lrScaleFor,
                                  std::vector<double> &alphas);

  /// SHA-256 (hex) of the trainable weights, checked equal on every rank
  /// (the error names the step and the ranks that differ).
  llvm::Expected<std::string> checkWeights(tools::Model &model, int64_t step);
  /// Where the last checkpoint stands, for the message of a rank that is
  /// ended by a signal.
  void noteCheckpoint(const std::string &path, int64_t step);
  /// Stops at the next exchange were requested by SIGUSR1 (under mpirun).
  static bool stopRequested();

private:
  Distributed() = default;
  std::string partition;
  int rank = 0, size = 1;
  tools::TrainConfig train;
  tools::OptimSetup setup;
  uint64_t seed = 0;
  int64_t batch = 0, hashEvery = 0;
  int64_t rowBegin = 0, rowEnd = 0;
  int64_t dirBegin = 0, dirEnd = 0;
  /// Per rank: count and offset (in doubles) in the gathered buffer.
  std::vector<int> counts, displs;
  std::vector<double> sendBuf, recvBuf, local;
  std::string lastCheckpoint;
  int64_t lastCheckpointStep = 0;
};

} // namespace kan::train

#endif // KAN_TRAIN_DISTRIBUTED_H
