"""Synthetic, deterministic evaluation data."""
import torch

from .model import CLASSES, IN_FEATURES

# The teacher that labels the data is the same for every seed: only the inputs depend on `seed`.
TEACHER_SEED = 12345


def make_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` samples: x float32 [n, 64] (standard normal) and y int64 [n] in [0, 10).

    The labels come from a fixed random linear "teacher" (argmax of x @ W + b) that does not depend
    on `seed`, so a model can do better than chance on them. Same `n` and `seed`, same tensors (on
    the CPU).
    """
    teacher = torch.Generator().manual_seed(TEACHER_SEED)
    teacher_w = torch.randn(IN_FEATURES, CLASSES, generator=teacher)
    teacher_b = torch.randn(CLASSES, generator=teacher)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, IN_FEATURES, generator=gen)
    y = (x @ teacher_w + teacher_b).argmax(dim=1)
    return x, y
