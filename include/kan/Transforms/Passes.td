//===- Passes.td - kan transformation passes ---------------*- tablegen -*-===//

#ifndef KAN_TRANSFORMS_PASSES_TD
#define KAN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def KanJvp : Pass<"kan-jvp", "::mlir::ModuleOp"> {
  let summary = "Forward-mode differentiation of a function, n directions at once";
  let description = [{
    Creates `@<func>_jvp` from `@<func>`: the primal results followed by the
    tangents of every floating-point result. Arguments are `dup`
    (duplicated: a tangent argument follows the primal ones) or `const`
    (constant: zero tangent, no argument), one entry per argument of the
    function in `activity` (default: every argument duplicated except the
    first, the model input, and every `kan.layer` grid operand). Tangents
    have a leading dimension of size `width`; all primal values are shared
    between directions. Rules come from `JvpOpInterface`; an op without a
    rule is diagnosed by name.
  }];
  let options = [
    Option<"funcName", "func", "std::string", "\"model\"",
           "Name of the function to differentiate">,
    Option<"width", "width", "int64_t", "1",
           "Number of tangent directions computed at once">,
    ListOption<"activity", "activity", "std::string",
               "Per argument: dup or const">,
  ];
  let dependentDialects = ["::mlir::kan::KanDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KanBuildTrainStep : Pass<"kan-build-train-step", "::mlir::ModuleOp"> {
  let summary = "Wraps a model with its loss and a noise_step update";
  let description = [{
    From `@<model>(x, params...) -> logits` builds
    `@train_step(x, y, seed: i64, step: i64, params...) ->
    (loss, alphas, new params...)`: `kan.perturb` ops draw `n` directions
    for every trainable parameter (grids are not trained), the JVP of the
    model comes from the kan-jvp machinery, the loss JVP gives the scalars
    alpha_i, and `kan.update` applies `fg` or `ternary` with every
    perturbation regenerated from the seed. The model is inlined.
  }];
  let options = [
    Option<"modelName", "model", "std::string", "\"model\"",
           "Name of the model function">,
    Option<"loss", "loss", "std::string", "\"cross_entropy\"",
           "Loss: cross_entropy (integer labels) or mse">,
    Option<"rule", "rule", "std::string", "\"ternary\"",
           "Update rule: ternary (noise_step) or fg (forward gradient)">,
    Option<"dist", "dist", "std::string", "\"\"",
           "Perturbation: sparse_ternary, normal or rademacher (default: "
           "sparse_ternary for ternary, normal for fg)">,
    Option<"directions", "n", "int64_t", "32", "Directions per step">,
    Option<"density", "density", "double", "2e-3",
           "Non-zero fraction of sparse ternary perturbations">,
    Option<"lr", "lr", "double", "3e-3", "Learning rate">,
  ];
  let dependentDialects = ["::mlir::kan::KanDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KAN_TRANSFORMS_PASSES_TD
