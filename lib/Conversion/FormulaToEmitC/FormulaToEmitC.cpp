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
  using KanFormulaToEmitCBase::KanFormulaToEmitCBase;
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
    SmallVector<emitc::FuncOp> outputs;
    for (auto f : module.getOps<emitc::FuncOp>())
      if (kan::isFormulaName(f.getName())) {
        f.setSpecifiersAttr(b.getStrArrayAttr({"static"}));
        outputs.push_back(f);
      }
    // @formula_1 .. @formula_O in output order (@formula alone: one output).
    llvm::sort(outputs, [](emitc::FuncOp a, emitc::FuncOp c) {
      auto num = [](emitc::FuncOp f) {
        unsigned n = 0;
        (void)f.getName().drop_front(8).getAsInteger(10, n);
        return n;
      };
      return num(a) < num(c);
    });
    unsigned inputs = outputs.front().getFunctionType().getNumInputs();
    for (emitc::FuncOp f : outputs) {
      FunctionType t = f.getFunctionType();
      if (t.getNumInputs() != inputs || t.getNumResults() != 1 ||
          !t.getResult(0).isF64() ||
          llvm::any_of(t.getInputs(), [](Type a) { return !a.isF64(); })) {
        f.emitError() << "a formula function takes the same f64 inputs as "
                         "the others and returns one f64";
        return signalPassFailure();
      }
    }
    buildEntryPoints(module, outputs, inputs);
  }

  /// <prefix>forward over the rows of x (no parameters) and
  /// <prefix>set_threads, so a formula runs where a model does.
  void buildEntryPoints(ModuleOp module, ArrayRef<emitc::FuncOp> outputs,
                        unsigned inputs) {
    std::string prefix = this->prefix.getValue();
    MLIRContext *ctx = &getContext();
    Location loc = module.getLoc();
    OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    b.create<emitc::VerbatimOp>(loc, "/* Generated by kan-translate "
                                     "--target=cpu from a formula. Do not "
                                     "edit. */");
    b.create<emitc::IncludeOp>(loc, prefix + "model.h", false);
    b.create<emitc::IncludeOp>(loc, "kanrt/ops.h", true);
    b.create<emitc::IncludeOp>(loc, "math.h", true);
    b.create<emitc::IncludeOp>(loc, "stdbool.h", true);
    b.create<emitc::IncludeOp>(loc, "stddef.h", true);
    b.create<emitc::IncludeOp>(loc, "stdint.h", true);
    b.setInsertionPointToEnd(module.getBody());
    Type i64 = b.getI64Type(), f64 = b.getF64Type();
    Type intT = emitc::OpaqueType::get(ctx, "int");
    auto constant = [&](OpBuilder &bb, int64_t v) -> Value {
      return bb.create<emitc::ConstantOp>(loc, i64, bb.getI64IntegerAttr(v));
    };
    {
      auto f = b.create<emitc::FuncOp>(loc, prefix + "set_threads",
                                       FunctionType::get(ctx, {intT}, {intT}));
      Block *entry = f.addEntryBlock();
      OpBuilder fb = OpBuilder::atBlockEnd(entry);
      // A formula runs on one thread.
      fb.create<emitc::CallOpaqueOp>(loc, TypeRange{}, "KAN_UNUSED",
                                     SmallVector<Value>{f.getArgument(0)});
      Value one = fb.create<emitc::ConstantOp>(
          loc, intT, emitc::OpaqueAttr::get(ctx, "1"));
      fb.create<emitc::ReturnOp>(loc, one);
    }
    Type x = emitc::PointerType::get(emitc::OpaqueType::get(ctx, "const double"));
    Type params =
        emitc::PointerType::get(emitc::OpaqueType::get(ctx, "double *const"));
    Type y = emitc::PointerType::get(f64);
    auto f = b.create<emitc::FuncOp>(
        loc, prefix + "forward",
        FunctionType::get(ctx, {x, i64, params, y}, {intT}));
    Block *entry = f.addEntryBlock();
    OpBuilder fb = OpBuilder::atBlockEnd(entry);
    fb.create<emitc::CallOpaqueOp>(loc, TypeRange{}, "KAN_UNUSED",
                                   SmallVector<Value>{f.getArgument(2)});
    Value lb = constant(fb, 0), step = constant(fb, 1);
    auto loop = fb.create<emitc::ForOp>(loc, lb, f.getArgument(1), step);
    {
      OpBuilder lb(loop.getBody()->getTerminator());
      Value r = loop.getInductionVar();
      Value xr = lb.create<emitc::AddOp>(
          loc, x, f.getArgument(0),
          lb.create<emitc::MulOp>(loc, i64, r, constant(lb, inputs)));
      SmallVector<Value> args;
      for (unsigned i = 0; i < inputs; ++i)
        args.push_back(lb.create<emitc::SubscriptOp>(
            loc, cast<emitc::PointerType>(x).getPointee(), xr,
            ValueRange{constant(lb, i)}));
      Value row = lb.create<emitc::MulOp>(loc, i64, r,
                                          constant(lb, outputs.size()));
      for (auto [o, out] : llvm::enumerate(outputs)) {
        emitc::FuncOp fn = out;
        Value v = lb.create<emitc::CallOpaqueOp>(loc, TypeRange{f64},
                                                 fn.getName(), args)
                      .getResult(0);
        Value at = lb.create<emitc::AddOp>(loc, i64, row, constant(lb, o));
        Value dst = lb.create<emitc::SubscriptOp>(loc, f64, f.getArgument(3),
                                                  ValueRange{at});
        lb.create<emitc::AssignOp>(loc, dst, v);
      }
    }
    Value zero = fb.create<emitc::ConstantOp>(loc, intT,
                                              emitc::OpaqueAttr::get(ctx, "0"));
    fb.create<emitc::ReturnOp>(loc, zero);
  }
};
} // namespace
