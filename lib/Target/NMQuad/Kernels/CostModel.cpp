//===- CostModel.cpp - the registered tile kernel cost model ----*- C++ -*-===//
#include "kan/Target/NMQuad/Kernels/CostModel.h"

#include <sstream>

namespace kan::nmquad {

KernelCostModel::~KernelCostModel() = default;

namespace {
const KernelCostModel *registeredModel = nullptr;
} // namespace

const KernelCostModel *getKernelCostModel() { return registeredModel; }

void registerKernelCostModel(const KernelCostModel &model) {
  registeredModel = &model;
}

std::string KernelEstimate::toJson() const {
  std::ostringstream os;
  os << "{\"symbol\":\"" << symbol
     << "\",\"valid\":" << (valid ? "true" : "false");
  if (!valid) {
    std::string msg;
    for (char c : error)
      msg += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    os << ",\"error\":\"" << msg << "\"}";
    return os.str();
  }
  os << ",\"cycles\":" << cycles << ",\"flops\":" << flops
     << ",\"gflops\":" << gflops << ",\"peak_gflops\":" << peakGflops
     << ",\"efficiency\":" << efficiency
     << ",\"steady_efficiency\":" << steadyEfficiency
     << ",\"bank_conflicts\":" << bankConflicts << ",\"stats\":" << detailJson
     << "}";
  return os.str();
}

} // namespace kan::nmquad
