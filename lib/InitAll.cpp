//===- InitAll.cpp - register the kan dialects and passes -------*- C++ -*-===//

#include "kan/InitAll.h"
#include "kan/Conversion/Passes.h"
#include "kan/Dialect/Kan/KanDialect.h"
#include "kan/Dialect/Kan/KanInterfaces.h"
#include "kan/Transforms/Passes.h"
#include "kan/Dialect/NMC/NMCDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::kan::registerAllDialects(DialectRegistry &registry) {
  registry.insert<KanDialect, func::FuncDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, math::MathDialect,
                  memref::MemRefDialect, scf::SCFDialect,
                  affine::AffineDialect,
                  tensor::TensorDialect, emitc::EmitCDialect>();
  registerJvpExternalModels(registry);
  registry.insert<nmc::NMCDialect>();
}

void mlir::kan::registerAllPasses() {
  registerKanPasses();
  registerKanConversionPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerInlinerPass();
  mlir::registerSymbolDCEPass();
}
