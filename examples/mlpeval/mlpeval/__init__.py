"""mlpeval: accuracy and mean cross-entropy loss of a small MLP classifier on synthetic data."""
