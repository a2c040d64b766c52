"""Evaluation loop: accuracy and mean loss of a classifier over a data set."""
import torch
import torch.nn.functional as F


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
             batch_size: int) -> tuple[float, float]:
    """Evaluates `model` on x float32 [n, features] with labels y int64 [n].

    Runs the model on batches of `batch_size` samples, on the device of the model's parameters.
    Returns (accuracy, mean_loss): the fraction of samples whose highest logit is the label, and
    the mean per-sample cross-entropy, both as Python floats.
    """
    device = next(model.parameters()).device
    n = len(x)
    total_loss = 0.0
    correct = 0
    with torch.no_grad():
        for start in range(0, n, batch_size):
            loss_sum, hits = evaluate_batch(model, x[start:start + batch_size], y[start:start + batch_size], device)
            total_loss += loss_sum
            correct += hits
    return correct / n, total_loss / n


def evaluate_batch(model: torch.nn.Module, xb: torch.Tensor, yb: torch.Tensor,
                   device: torch.device) -> tuple[float, int]:
    """One batch: xb float32 [b, features], yb int64 [b], moved to `device`.

    Returns (sum of the per-sample cross-entropies as a Python float, number of samples whose
    highest logit is the label).
    """
    xb = xb.to(device)
    yb = yb.to(device)
    logits = model(xb)
    losses = F.cross_entropy(logits, yb, reduction="none")
    loss_sum = 0.0
    hits = 0
    for i in range(len(xb)):
        loss_sum += losses[i].item()
        hits += int(logits[i].argmax().item() == yb[i].item())
    return loss_sum, hits
