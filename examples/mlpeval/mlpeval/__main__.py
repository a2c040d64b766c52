"""python -m mlpeval [--n N]: evaluates the MLP on N synthetic samples and prints accuracy and loss."""
import argparse

import torch

from .data import make_data
from .evaluate import evaluate
from .model import fit_head, make_model
from .settings import BATCH_SIZE


def main() -> None:
    parser = argparse.ArgumentParser(prog="mlpeval", description=__doc__)
    parser.add_argument("--n", type=int, default=15000, help="number of samples (default: %(default)s)")
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    # The hidden layers keep their random weights; the last layer is fitted to 2048 training samples.
    model = fit_head(make_model(seed=0), *make_data(2048, seed=2)).to(device)
    x, y = make_data(args.n, seed=1)
    accuracy, loss = evaluate(model, x, y, BATCH_SIZE)
    print(f"accuracy {accuracy:.4f}")
    print(f"loss {loss:.6f}")


if __name__ == "__main__":
    main()
