//===- Common.cpp - helpers shared by the target emitters -------*- C++ -*-===//

#include "kan/Target/Common.h"

#include "kan/Support/SafeOutput.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

std::string mlir::kan::printExactDouble(double v) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

mlir::LogicalResult mlir::kan::writeTargetFile(llvm::StringRef dir,
                                               llvm::StringRef name,
                                               llvm::StringRef text) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  if (llvm::Error e = ::kan::support::writeFileAtomic(path, text)) {
    llvm::errs() << "kan-translate: " << llvm::toString(std::move(e)) << "\n";
    return failure();
  }
  return success();
}

mlir::LogicalResult mlir::kan::emitToStagedDirectory(
    llvm::StringRef outDir,
    llvm::function_ref<LogicalResult(llvm::StringRef)> emit) {
  auto staged = ::kan::support::StagedDirectory::create(outDir);
  if (!staged) {
    llvm::errs() << "kan-translate: " << llvm::toString(staged.takeError())
                 << "\n";
    return failure();
  }
  if (failed(emit((*staged)->path()))) {
    llvm::errs() << "kan-translate: nothing written to " << outDir
                 << " (its previous contents are unchanged)\n";
    return failure();
  }
  if (llvm::Error e = (*staged)->commit()) {
    llvm::errs() << "kan-translate: " << llvm::toString(std::move(e)) << "\n";
    return failure();
  }
  return success();
}
