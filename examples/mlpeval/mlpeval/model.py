"""The classifier: a small multi-layer perceptron."""
import torch
import torch.nn.functional as F
from torch import nn

IN_FEATURES = 64
HIDDEN = 64
CLASSES = 10


def make_model(seed: int) -> nn.Sequential:
    """An MLP mapping [batch, 64] float32 inputs to [batch, 10] logits, in eval mode.

    64 -> 64 -> 64 -> 10, with LayerNorm + GELU after the first layer and ReLU after the second.
    The weights are a deterministic function of `seed`.
    """
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(IN_FEATURES, HIDDEN),
        nn.LayerNorm(HIDDEN),
        nn.GELU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, CLASSES),
    )
    return model.eval()


def fit_head(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor,
             ridge: float = 1.0, scale: float = 5.0) -> nn.Sequential:
    """Trains the last layer of `model` in closed form; the other layers keep their weights.

    x float32 [m, 64], y int64 [m]: training data, on the model's device. The last Linear layer is
    set to the ridge regression (penalty `ridge`) of the one-hot labels, times `scale`, on the
    features the layers before it compute. Returns `model`, changed in place.
    """
    head = model[-1]
    with torch.no_grad():
        features = model[:-1](x)
        features = torch.cat([features, torch.ones(len(x), 1, device=x.device)], dim=1)
        targets = F.one_hot(y, head.out_features).to(features.dtype) * scale
        gram = features.T @ features + ridge * torch.eye(features.shape[1], device=x.device)
        solution = torch.linalg.solve(gram, features.T @ targets)
        head.weight.copy_(solution[:-1].T)
        head.bias.copy_(solution[-1])
    return model
