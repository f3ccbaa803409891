"""kanpeer: an efficient-kan-equivalent PyTorch peer of the KAN compiler.

Used to produce the checked-in golden vectors (test/golden) and as the benchmark
peer (bench/torch). Only the standard library, numpy and torch are used.
"""
from .efficient_kan import (  # noqa: F401
    KAN, KANLinear, b_splines, kan_forward, kan_linear, make_grid,
    mse_loss, cross_entropy_loss, LOSSES, jvp, loss_jvp,
    param_names, perturbation, noise_step, backprop_step,
)
from .tensor_io import save_safetensors, load_safetensors, save_npy, load_npy  # noqa: F401
