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

#endif // KAN_DIALECT_TD
