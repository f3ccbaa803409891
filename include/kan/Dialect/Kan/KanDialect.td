//===- KanDialect.td - KAN dialect definition --------------*- tablegen -*-===//

#ifndef KAN_DIALECT_TD
#define KAN_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Kan_Dialect : Dialect {
  let name = "kan";
  let cppNamespace = "::mlir::kan";
  let summary = "Kolmogorov-Arnold network layers, losses, perturbations and training steps";
  let description = [{
    The kan dialect describes KAN models in the efficient-kan formulation
    (B-spline layers on a per-input grid plus a base activation), their
    losses, seeded counter-based perturbations, forward-mode derivatives and
    the noise_step training update. Tensor-level ops carry the math; the
    `kan.tile_*` ops work on memrefs and are what the tile-and-fuse pass
    produces for the target emitters.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class Kan_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kan_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Kan_ActSiLU : I32EnumAttrCase<"silu", 0>;
def Kan_ActIdentity : I32EnumAttrCase<"identity", 1>;
def Kan_ActivationEnum : I32EnumAttr<"Activation", "base activation of a layer",
    [Kan_ActSiLU, Kan_ActIdentity]> {
  let cppNamespace = "::mlir::kan";
  let genSpecializedAttr = 0;
}
def Kan_ActivationAttr : EnumAttr<Kan_Dialect, Kan_ActivationEnum, "activation">;

def Kan_DistNormal : I32EnumAttrCase<"normal", 0>;
def Kan_DistRademacher : I32EnumAttrCase<"rademacher", 1>;
def Kan_DistSparseTernary : I32EnumAttrCase<"sparse_ternary", 2>;
def Kan_DistributionEnum : I32EnumAttr<"Distribution",
    "distribution of a perturbation",
    [Kan_DistNormal, Kan_DistRademacher, Kan_DistSparseTernary]> {
  let cppNamespace = "::mlir::kan";
  let genSpecializedAttr = 0;
}
def Kan_DistributionAttr : EnumAttr<Kan_Dialect, Kan_DistributionEnum, "dist">;

def Kan_RuleFG : I32EnumAttrCase<"fg", 0>;
def Kan_RuleTernary : I32EnumAttrCase<"ternary", 1>;
def Kan_UpdateRuleEnum : I32EnumAttr<"UpdateRule", "optimiser update rule",
    [Kan_RuleFG, Kan_RuleTernary]> {
  let cppNamespace = "::mlir::kan";
  let genSpecializedAttr = 0;
}
def Kan_UpdateRuleAttr : EnumAttr<Kan_Dialect, Kan_UpdateRuleEnum, "rule">;

//===----------------------------------------------------------------------===//
// Kernel choices of the CPU target (recorded by kan-prepare-cpu; the C
// printer only reads them)
//===----------------------------------------------------------------------===//

def Kan_LayoutDense : I32EnumAttrCase<"dense", 0>;
def Kan_LayoutSpan : I32EnumAttrCase<"span", 1>;
def Kan_WeightLayoutEnum : I32EnumAttr<"WeightLayout",
    "memory layout of packed layer weights: dense (O rows of I(G+k+1)) or "
    "span (I(G+k+1) rows of O, read by the span-local kernels)",
    [Kan_LayoutDense, Kan_LayoutSpan]> {
  let cppNamespace = "::mlir::kan";
  let genSpecializedAttr = 0;
}
def Kan_WeightLayoutAttr : EnumAttr<Kan_Dialect, Kan_WeightLayoutEnum, "layout">;

def Kan_FwdPanel : I32EnumAttrCase<"panel", 0>;
def Kan_FwdSpan : I32EnumAttrCase<"span", 1>;
def Kan_ForwardKernelEnum : I32EnumAttr<"ForwardKernel",
    "kernel of a layer's primal GEMM: a feature panel and a dense GEMM, or "
    "span-local sums over the non-zero basis window",
    [Kan_FwdPanel, Kan_FwdSpan]> {
  let cppNamespace = "::mlir::kan";
  let genSpecializedAttr = 0;
}
def Kan_ForwardKernelAttr
    : EnumAttr<Kan_Dialect, Kan_ForwardKernelEnum, "forward_kernel">;

def Kan_ItNone : I32EnumAttrCase<"none", 0>;
def Kan_ItPanel : I32EnumAttrCase<"panel", 1>;
def Kan_ItJacobian : I32EnumAttrCase<"jacobian", 2>;
def Kan_ItJacobianMulti : I32EnumAttrCase<"jacobian_multi", 3>;
def Kan_InputTangentKernelEnum : I32EnumAttr<"InputTangentKernel",
    "how a layer computes A'_d W^T: not at all (no input tangent), tangent "
    "feature panels and GEMMs, the layer's input Jacobian per row tile "
    "applied once per direction, or applied to all directions row by row "
    "(each row's Jacobian read once while it is in cache)",
    [Kan_ItNone, Kan_ItPanel, Kan_ItJacobian, Kan_ItJacobianMulti]> {
  let cppNamespace = "::mlir::kan";
  let genSpecializedAttr = 0;
}
def Kan_InputTangentKernelAttr
    : EnumAttr<Kan_Dialect, Kan_InputTangentKernelEnum, "input_tangent_kernel">;

def Kan_WtNone : I32EnumAttrCase<"none", 0>;
def Kan_WtDense : I32EnumAttrCase<"dense", 1>;
def Kan_WtRegenerate : I32EnumAttrCase<"regenerate", 2>;
def Kan_WtSparseRows : I32EnumAttrCase<"sparse_rows", 3>;
def Kan_WeightTangentKernelEnum : I32EnumAttr<"WeightTangentKernel",
    "how a layer computes A W'_d^T: not at all, a GEMM per direction with "
    "a given W'_d, dense draws regenerated per tile, or the CSR directions "
    "all at once per tile (sparse W'_d never densified)",
    [Kan_WtNone, Kan_WtDense, Kan_WtRegenerate, Kan_WtSparseRows]> {
  let cppNamespace = "::mlir::kan";
  let genSpecializedAttr = 0;
}
def Kan_WeightTangentKernelAttr
    : EnumAttr<Kan_Dialect, Kan_WeightTangentKernelEnum, "weight_tangent_kernel">;

#endif // KAN_DIALECT_TD
