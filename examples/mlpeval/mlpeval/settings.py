"""Tunables of mlpeval."""

# The evaluation batch size: how many samples evaluate() sends through the model at once.
BATCH_SIZE = 1
