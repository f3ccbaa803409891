//===- Common.cpp - helpers shared by the target emitters -------*- C++ -*-===//

#include "kan/Target/Common.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
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
  std::string err;
  auto file = openOutputFile(path, &err);
  if (!file) {
    llvm::errs() << "kan-translate: cannot write " << path << ": " << err
                 << "\n";
    return failure();
  }
  file->os() << text;
  file->keep();
  return success();
}
