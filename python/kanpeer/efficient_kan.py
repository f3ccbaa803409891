"""efficient-kan-equivalent KAN in PyTorch, plus forward-mode training (noise_step).

Parameters use efficient-kan's state_dict names, so a dict
{"layers.{l}.grid", "layers.{l}.base_weight", "layers.{l}.spline_weight",
 "layers.{l}.spline_scaler"} is both what `KAN.state_dict()` returns and what the
functional entry points (`kan_forward`, `jvp`, `noise_step`, ...) take. The math is
docs ALGORITHMS.md sections 1-3.

Initialisation (deterministic from a seed, drawn in float64 and then cast so the f32
and f64 models made from one seed agree):
  base_weight   U(-1/sqrt(I), 1/sqrt(I))      = efficient-kan's kaiming_uniform_(a=sqrt(5))
  spline_scaler U(-1/sqrt(I), 1/sqrt(I))      idem (enable_standalone_scale_spline=True)
  spline_weight U(-1/2, 1/2) * scale_noise/G  efficient-kan draws this noise at the G+1
                grid points and least-squares fits coefficients to it (curve2coeff); we
                use the draw directly as coefficients: same scale, no lstsq dependency.
"""
import math

import torch
import torch.nn.functional as F
import torch.autograd.forward_ad as fwAD

TRAINABLE = ("base_weight", "spline_weight", "spline_scaler")


# --------------------------------------------------------------------------- layer math

def make_grid(in_features, grid_size=5, spline_order=3, grid_range=(-1.0, 1.0),
              dtype=torch.float64):
    """I x (G+2k+1) knots, t[j] = lo + (j-k) h, exactly as efficient-kan builds them."""
    lo, hi = grid_range
    h = (hi - lo) / grid_size
    row = torch.arange(-spline_order, grid_size + spline_order + 1, dtype=dtype) * h + lo
    return row.expand(in_features, -1).contiguous()


def b_splines(x, grid, spline_order):
    """N x I -> N x I x (G+k) B-spline bases, efficient-kan's Cox-de Boor recursion.

    Half-open intervals and no guard against zero knot spans, on purpose: this is the
    reference the compiler is compared with, so it must fail the same way.
    """
    x = x.unsqueeze(-1)
    bases = ((x >= grid[:, :-1]) & (x < grid[:, 1:])).to(x.dtype)
    for p in range(1, spline_order + 1):
        bases = ((x - grid[:, :-(p + 1)]) / (grid[:, p:-1] - grid[:, :-(p + 1)])
                 * bases[:, :, :-1]) \
            + ((grid[:, p + 1:] - x) / (grid[:, p + 1:] - grid[:, 1:(-p)])
               * bases[:, :, 1:])
    return bases


def spline_order_of(grid, spline_weight):
    # grid has G+2k+1 columns, spline_weight G+k: k follows from the shapes.
    return grid.shape[-1] - spline_weight.shape[-1] - 1


def kan_linear(x, grid, base_weight, spline_weight, spline_scaler=None):
    """y = silu(x) Wb^T + flat(B(x)) flat(C*S)^T  (efficient-kan KANLinear.forward)."""
    k = spline_order_of(grid, spline_weight)
    out_features = base_weight.shape[0]
    base = F.linear(F.silu(x), base_weight)
    coef = spline_weight if spline_scaler is None else spline_weight * spline_scaler[..., None]
    spline = F.linear(b_splines(x, grid, k).reshape(x.shape[0], -1),
                      coef.reshape(out_features, -1))
    return base + spline


def num_layers(params):
    n = 0
    while f"layers.{n}.grid" in params:
        n += 1
    return n


def kan_forward(params, x):
    """Evaluate the KAN described by the state_dict-like `params` on x (N x I)."""
    for l in range(num_layers(params)):
        x = kan_linear(x, params[f"layers.{l}.grid"], params[f"layers.{l}.base_weight"],
                       params[f"layers.{l}.spline_weight"],
                       params.get(f"layers.{l}.spline_scaler"))
    return x


def param_names(params):
    """Trainable parameter names (everything but the grids), in layer order."""
    return [f"layers.{l}.{p}" for l in range(num_layers(params)) for p in TRAINABLE
            if f"layers.{l}.{p}" in params]


# --------------------------------------------------------------------------- modules

class KANLinear(torch.nn.Module):
    def __init__(self, in_features, out_features, grid_size=5, spline_order=3,
                 grid_range=(-1.0, 1.0), scale_noise=0.1, dtype=torch.float64,
                 generator=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.grid_size, self.spline_order = grid_size, spline_order
        self.register_buffer("grid", make_grid(in_features, grid_size, spline_order,
                                               grid_range, dtype))
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        bound = 1.0 / math.sqrt(in_features)

        def uniform(shape, lo, hi):
            u = torch.rand(shape, generator=g, dtype=torch.float64)
            return (lo + (hi - lo) * u).to(dtype)

        self.base_weight = torch.nn.Parameter(
            uniform((out_features, in_features), -bound, bound))
        self.spline_weight = torch.nn.Parameter(
            uniform((out_features, in_features, grid_size + spline_order), -0.5, 0.5)
            * (scale_noise / grid_size))
        self.spline_scaler = torch.nn.Parameter(
            uniform((out_features, in_features), -bound, bound))

    def forward(self, x):
        return kan_linear(x, self.grid, self.base_weight, self.spline_weight,
                          self.spline_scaler)


class KAN(torch.nn.Module):
    """Stack of KANLinear; state_dict keys layers.{l}.{grid,base_weight,...}."""

    def __init__(self, widths, grid_size=5, spline_order=3, grid_range=(-1.0, 1.0),
                 dtype=torch.float64, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.widths = list(widths)
        self.layers = torch.nn.ModuleList(
            KANLinear(i, o, grid_size, spline_order, grid_range, dtype=dtype, generator=g)
            for i, o in zip(widths[:-1], widths[1:]))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def params(self):
        """Detached tensors sharing storage with the module (in-place updates stick)."""
        return dict(self.state_dict())


# --------------------------------------------------------------------------- losses

def mse_loss(z, target):
    """mean((z - y)^2) over all elements."""
    return ((z - target) ** 2).mean()


def cross_entropy_loss(z, labels):
    """Softmax cross-entropy, mean over the batch; labels int64 N."""
    return -F.log_softmax(z, dim=-1).gather(1, labels.view(-1, 1)).mean()


LOSSES = {"mse": mse_loss, "cross_entropy": cross_entropy_loss}


# --------------------------------------------------------------------------- forward AD

def _dual_params(params, tangents):
    return {k: (fwAD.make_dual(v, tangents[k]) if k in tangents else v)
            for k, v in params.items()}


def jvp(params, x, tangents):
    """(y, dy): output and its directional derivative along `tangents`.

    tangents: parameter name -> tensor (a subset is fine, missing ones are zero),
    plus optionally "input" for an input tangent.
    """
    with fwAD.dual_level():
        xd = fwAD.make_dual(x, tangents["input"]) if "input" in tangents else x
        y = kan_forward(_dual_params(params, tangents), xd)
        primal, tangent = fwAD.unpack_dual(y)
        if tangent is None:
            tangent = torch.zeros_like(primal)
        return primal.clone(), tangent.clone()


def loss_jvp(params, x, target, tangents, loss="mse"):
    """(L, dL) of a loss ("mse" or "cross_entropy") along `tangents`, one forward pass."""
    loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
    with fwAD.dual_level():
        xd = fwAD.make_dual(x, tangents["input"]) if "input" in tangents else x
        L = loss_fn(kan_forward(_dual_params(params, tangents), xd), target)
        primal, tangent = fwAD.unpack_dual(L)
        return float(primal), (0.0 if tangent is None else float(tangent))


# --------------------------------------------------------------------------- training

def _direction_generator(seed, step, direction):
    # A fixed integer mix, so a direction can be regenerated instead of stored.
    s = (seed * 0x9E3779B97F4A7C15 + step * 0xBF58476D1CE4E5B9
         + direction * 0x94D049BB133111EB) & 0x7FFFFFFFFFFFFFFF
    return torch.Generator().manual_seed(s)


def perturbation(params, names, seed, step, direction, kind="ternary", density=2e-3):
    """Direction v_i as a dict of dense tensors (the peer uses torch's RNG, not Philox).

    ternary:    per tensor m = max(1, round(density*size)) positions drawn uniformly with
                replacement, each +-1; duplicates add (as ALGORITHMS.md section 4).
    gaussian:   N(0, 1) everywhere.   rademacher: +-1 everywhere.
    """
    g = _direction_generator(seed, step, direction)
    out = {}
    for name in names:
        p = params[name]
        size = p.numel()
        if kind == "ternary":
            m = max(1, round(density * size))
            pos = torch.randint(size, (m,), generator=g)
            sign = torch.randint(2, (m,), generator=g).to(p.dtype) * 2 - 1
            v = torch.zeros(size, dtype=p.dtype).index_add_(0, pos, sign).view_as(p)
        elif kind == "gaussian":
            v = torch.randn(p.shape, generator=g, dtype=p.dtype)
        elif kind == "rademacher":
            v = torch.randint(2, p.shape, generator=g).to(p.dtype) * 2 - 1
        else:
            raise ValueError(f"unknown perturbation kind {kind}")
        out[name] = v
    return out


def noise_step(params, x, target, loss="cross_entropy", ndir=32, rule="ternary",
               lr=3e-3, density=2e-3, kind=None, seed=0, step=0):
    """One training step without backprop; updates `params` in place.

    For each direction: regenerate v_i from (seed, step, i), run one forward pass with
    dual numbers to get L and a_i = dL/dtheta . v_i. Then
      ternary: tau_i = sign(a_i) [|a_i| >= median_j |a_j|],  theta -= lr sum_i tau_i v_i
      fg:      theta -= lr/n sum_i a_i v_i
    The median of an even count is the mean of the two middle values.
    Returns (loss, list of a_i).
    """
    kind = kind or ("ternary" if rule == "ternary" else "gaussian")
    names = param_names(params)
    a = []
    L = 0.0
    for i in range(ndir):
        v = perturbation(params, names, seed, step, i, kind, density)
        L, ai = loss_jvp(params, x, target, v, loss)
        a.append(ai)
        del v
    if rule == "ternary":
        s = sorted(abs(ai) for ai in a)
        med = 0.5 * (s[(ndir - 1) // 2] + s[ndir // 2])
        coef = [lr * math.copysign(1.0, ai) if (abs(ai) >= med and ai != 0) else 0.0
                for ai in a]
    elif rule == "fg":
        coef = [lr * ai / ndir for ai in a]
    else:
        raise ValueError(f"unknown update rule {rule}")
    with torch.no_grad():
        for i, c in enumerate(coef):
            if c == 0.0:
                continue
            v = perturbation(params, names, seed, step, i, kind, density)
            for name in names:
                params[name].sub_(c * v[name])
    return L, a


def backprop_step(params, x, target, loss="cross_entropy", lr=3e-3):
    """Plain SGD step with reverse-mode autodiff (for the memory/speed comparison)."""
    loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
    names = param_names(params)
    leaves = {k: (v.detach().requires_grad_(True) if k in names else v)
              for k, v in params.items()}
    L = loss_fn(kan_forward(leaves, x), target)
    grads = torch.autograd.grad(L, [leaves[n] for n in names])
    with torch.no_grad():
        for n, g in zip(names, grads):
            params[n].sub_(lr * g)
    return float(L)
