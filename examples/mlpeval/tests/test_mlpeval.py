import unittest

import torch
import torch.nn.functional as F

from mlpeval.data import make_data
from mlpeval.evaluate import evaluate
from mlpeval.model import fit_head, make_model


def reference(model, x, y):
    """Accuracy and mean loss computed in one vectorized pass."""
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).double().mean().item()
    return accuracy, loss


class EvaluateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = fit_head(make_model(seed=0), *make_data(512, seed=2))
        cls.x, cls.y = make_data(200, seed=1)

    def test_matches_vectorized_reference(self):
        want_accuracy, want_loss = reference(self.model, self.x, self.y)
        for batch_size in [1, 7, 64, len(self.x)]:
            with self.subTest(batch_size=batch_size):
                accuracy, loss = evaluate(self.model, self.x, self.y, batch_size)
                self.assertAlmostEqual(accuracy, want_accuracy, delta=1e-5 * want_accuracy)
                self.assertAlmostEqual(loss, want_loss, delta=1e-5 * want_loss)

    def test_accuracy_is_a_fraction(self):
        accuracy, loss = evaluate(self.model, self.x, self.y, 64)
        self.assertGreaterEqual(accuracy, 0.0)
        self.assertLessEqual(accuracy, 1.0)
        self.assertGreater(loss, 0.0)

    def test_random_model(self):
        model = make_model(seed=3)
        want_accuracy, want_loss = reference(model, self.x, self.y)
        accuracy, loss = evaluate(model, self.x, self.y, 16)
        self.assertAlmostEqual(accuracy, want_accuracy, delta=1e-5 * want_accuracy)
        self.assertAlmostEqual(loss, want_loss, delta=1e-5 * want_loss)


class DataTest(unittest.TestCase):
    def test_deterministic(self):
        x1, y1 = make_data(100, seed=5)
        x2, y2 = make_data(100, seed=5)
        self.assertTrue(torch.equal(x1, x2))
        self.assertTrue(torch.equal(y1, y2))

    def test_seed_changes_inputs(self):
        x1, _ = make_data(100, seed=5)
        x2, _ = make_data(100, seed=6)
        self.assertFalse(torch.equal(x1, x2))

    def test_shapes_and_types(self):
        x, y = make_data(50, seed=0)
        self.assertEqual(x.shape, (50, 64))
        self.assertEqual(x.dtype, torch.float32)
        self.assertEqual(y.shape, (50,))
        self.assertEqual(y.dtype, torch.int64)
        self.assertTrue(bool(((y >= 0) & (y < 10)).all()))


class ModelTest(unittest.TestCase):
    def test_deterministic_and_eval_mode(self):
        a, b = make_model(seed=1), make_model(seed=1)
        self.assertFalse(a.training)
        for pa, pb in zip(a.parameters(), b.parameters()):
            self.assertTrue(torch.equal(pa, pb))

    def test_fitted_head_beats_chance(self):
        model = fit_head(make_model(seed=0), *make_data(512, seed=2))
        accuracy, _ = reference(model, *make_data(1000, seed=1))
        self.assertGreater(accuracy, 0.2)


if __name__ == "__main__":
    unittest.main()
