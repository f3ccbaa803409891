//===- InitAll.h - register the kan dialects and passes ---------*- C++ -*-===//

#ifndef KAN_INITALL_H
#define KAN_INITALL_H

namespace mlir {
class DialectRegistry;
namespace kan {
/// The kan dialect, the upstream dialects the pipelines produce, and the
/// external JVP models of upstream ops.
void registerAllDialects(DialectRegistry &registry);
/// Every kan pass and named pipeline.
void registerAllPasses();
} // namespace kan
} // namespace mlir

#endif // KAN_INITALL_H
