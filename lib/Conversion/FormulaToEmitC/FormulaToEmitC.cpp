//===- FormulaToEmitC.cpp - formulas of math/arith ops to EmitC -----------===//
//
// kan-formula-to-emitc: the scalar formula functions become emitc.funcs.
// arith and func go through the upstream conversions; a math op becomes a
// call of the <math.h> function with the same meaning (the C target
// includes math.h), so the C printed for a formula is MLIR's own EmitC
// output.
//
//===----------------------------------------------------------------------===//

#include "kan/Conversion/Passes.h"

#include "mlir/Conversion/ArithToEmitC/ArithToEmitC.h"
#include "mlir/Conversion/FuncToEmitC/FuncToEmitC.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::kan {
#define GEN_PASS_DEF_KANFORMULATOEMITC
#include "kan/Conversion/Passes.h.inc"
} // namespace mlir::kan

using namespace mlir;

bool mlir::kan::isFormulaName(StringRef name) {
  if (name == "formula")
    return true;
  unsigned n;
  return name.consume_front("formula_") && !name.getAsInteger(10, n) && n >= 1;
}

namespace {
/// math.<op> %a : f64 -> emitc.call_opaque "<c name>"(%a) : (f64) -> f64.
template <typename MathOp>
struct MathToCall : OpConversionPattern<MathOp> {
  MathToCall(MLIRContext *ctx, StringRef callee)
      : OpConversionPattern<MathOp>(ctx), callee(callee.str()) {}
  LogicalResult
  matchAndRewrite(MathOp op, typename MathOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type t = op.getType();
    if (!t.isF64())
      return rewriter.notifyMatchFailure(op, "only f64 scalars");
    rewriter.replaceOpWithNewOp<emitc::CallOpaqueOp>(
        op, TypeRange{t}, callee, adaptor.getOperands());
    return success();
  }
  std::string callee;
};

struct KanFormulaToEmitC
    : public kan::impl::KanFormulaToEmitCBase<KanFormulaToEmitC> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    // Only formula functions; a module without any is left as it is, so
    // the pass can lead the CPU pipeline for every module.
    SmallVector<Operation *> formulas;
    for (auto f : module.getOps<func::FuncOp>())
      if (kan::isFormulaName(f.getName()))
        formulas.push_back(f);
    if (formulas.empty())
      return;
    ConversionTarget target(*ctx);
    target.addLegalDialect<emitc::EmitCDialect>();
    target.addIllegalDialect<arith::ArithDialect, math::MathDialect,
                             func::FuncDialect>();
    TypeConverter types;
    types.addConversion([](Type t) { return t; });
    RewritePatternSet patterns(ctx);
    populateArithToEmitCPatterns(types, patterns);
    populateFuncToEmitCPatterns(patterns);
    patterns.add<MathToCall<math::ExpOp>>(ctx, "exp");
    patterns.add<MathToCall<math::LogOp>>(ctx, "log");
    patterns.add<MathToCall<math::SinOp>>(ctx, "sin");
    patterns.add<MathToCall<math::CosOp>>(ctx, "cos");
    patterns.add<MathToCall<math::TanOp>>(ctx, "tan");
    patterns.add<MathToCall<math::TanhOp>>(ctx, "tanh");
    patterns.add<MathToCall<math::CoshOp>>(ctx, "cosh");
    patterns.add<MathToCall<math::SinhOp>>(ctx, "sinh");
    patterns.add<MathToCall<math::AsinOp>>(ctx, "asin");
    patterns.add<MathToCall<math::AcosOp>>(ctx, "acos");
    patterns.add<MathToCall<math::AtanOp>>(ctx, "atan");
    patterns.add<MathToCall<math::AtanhOp>>(ctx, "atanh");
    patterns.add<MathToCall<math::SqrtOp>>(ctx, "sqrt");
    patterns.add<MathToCall<math::AbsFOp>>(ctx, "fabs");
    patterns.add<MathToCall<math::PowFOp>>(ctx, "pow");
    patterns.add<MathToCall<math::CbrtOp>>(ctx, "cbrt");
    if (failed(applyFullConversion(formulas, target, std::move(patterns)))) {
      signalPassFailure();
      return;
    }
    // Internal to the generated file: the C ABI is the kan_forward wrapper.
    OpBuilder b(ctx);
    for (auto f : module.getOps<emitc::FuncOp>())
      if (kan::isFormulaName(f.getName()))
        f.setSpecifiersAttr(b.getStrArrayAttr({"static"}));
  }
};
} // namespace
