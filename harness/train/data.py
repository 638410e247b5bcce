"""Training data as the tutorials feed it: streams cut into truncated-BPTT batches.

Seed 001 (``gen_data``, ``gen_batch``; the same distribution and cut, vectorized and drawn
from a seeded numpy Generator instead of the global np.random): a binary stream X with
P(X_t = 1) = 0.5 and labels Y with P(Y_t = 1) = 0.5, + 0.5 if X_(t-3) = 1, - 0.25 if
X_(t-8) = 1 (Python's negative indices wrap at the start, as in the seed). The stream is
cut into ``batch_size`` contiguous rows; batch i is columns [i*num_steps, (i+1)*num_steps)
of every row, so the state one batch ends in is where the next batch of the same row
starts: truncated BPTT with a carried state.

Inputs are one-hot (N, T, 2) floats, labels integers (N, T). ``Stream`` holds the rows
(N, S, D) and targets (N, S) or (N, S, O); ``batches(stream, num_steps)`` yields
(x, target) windows in training order.
"""

import dataclasses

import numpy as np

from ..errors import HarnessError


@dataclasses.dataclass(frozen=True)
class Stream:
    """Rows of a long sequence: x (N, S, D) floats, target (N, S) ints or (N, S, O) floats."""
    x: np.ndarray
    target: np.ndarray
    name: str = "data"

    def windows(self, num_steps):
        """How many whole windows of ``num_steps`` fit in a row (seed 001's epoch_size)."""
        return self.x.shape[1] // num_steps

    def batch(self, i, num_steps):
        sl = slice(i * num_steps, (i + 1) * num_steps)
        return self.x[:, sl], self.target[:, sl]


class Epochs:
    """Epochs whose streams are made on demand by ``make(epoch)`` (seeded: every side gets the
    same data), so long runs never hold every epoch's data at once; ``first`` is epoch 0's."""

    def __init__(self, make, count):
        self.make, self.count = make, count
        self.first = make(0)

    def __iter__(self):
        return (self.first if e == 0 else self.make(e) for e in range(self.count))

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        if i != 0:
            raise IndexError("only the first epoch is kept")
        return self.first


def seed001_raw(size=1_000_000, rng=None):
    """Seed 001's gen_data(size): (X, Y), int arrays of length ``size``; the seed's loop
    vectorized (the same distribution, from a seeded Generator)."""
    rng = np.random.default_rng(rng)
    X = rng.choice(2, size=(size,))
    threshold = np.full(size, 0.5)
    idx = np.arange(size)
    threshold += 0.5 * (X[idx - 3] == 1)            # idx - 3 < 0 wraps to the end, as X[i-3] does
    threshold -= 0.25 * (X[idx - 8] == 1)
    Y = (rng.random(size) <= threshold).astype(np.int64)    # "if rand > threshold: 0 else 1"
    return X, Y


def seed001_stream(batch_size=200, size=1_000_000, rng=None, dtype="float64"):
    """Seed 001's data cut as gen_batch cuts it: rows of batch_partition_length, one-hot x."""
    X, Y = seed001_raw(size, rng)
    length = size // batch_size
    data_x = X[: batch_size * length].reshape(batch_size, length)       # row i = raw[i*len:(i+1)*len]
    data_y = Y[: batch_size * length].reshape(batch_size, length)
    return Stream(np.eye(2, dtype=dtype)[data_x], data_y, name=f"seed 001 data ({size:,} draws)")


# The three cross-entropies seed 001 derives: nothing learned, the t-3 dependency, both.
SEED001_THEORY = {"none": -(0.625 * np.log(0.625) + 0.375 * np.log(0.375)),
                  "t-3": -0.5 * (0.875 * np.log(0.875) + 0.125 * np.log(0.125))
                  - 0.5 * (0.625 * np.log(0.625) + 0.375 * np.log(0.375)),
                  "t-3 and t-8": -0.5 * (0.75 * np.log(0.75) + 0.25 * np.log(0.25))
                  - 0.25 * (2 * 0.5 * np.log(0.5))}
SEED001_REPORTED = {5: 0.52, 10: 0.46}          # what the seed's plots settle at, by num_steps


def random_stream(case, length, rng):
    """A random stream for a model case: Gaussian inputs, targets drawn as make_case draws them."""
    N, D = case.x.shape[0], case.x.shape[2]
    spec = case.spec
    x = rng.standard_normal((N, length, D)).astype(spec.dtype)
    if spec.loss == "softmax_cross_entropy":
        target = rng.integers(0, spec.output_size, size=(N, length))
    else:
        low = 0.0 if float(np.min(case.target)) >= 0 else -1.0
        target = rng.uniform(low, 1.0, size=(N, length, spec.output_size)).astype(spec.dtype)
    return Stream(x, target, name=f"random data (seed {case.probe.seed})")


def check_stream(stream, case, num_steps):
    """A user's Stream against the model: sizes, dtypes, at least one window."""
    x, target, spec = np.asarray(stream.x), np.asarray(stream.target), case.spec
    if x.ndim != 3 or x.shape[2] != case.x.shape[2] or not np.issubdtype(x.dtype, np.floating):
        raise HarnessError(f"data: expected x of shape (batch, length, {case.x.shape[2]}) floats, got "
                           f"{x.shape} {x.dtype}")
    want = (x.shape[0], x.shape[1]) if spec.loss == "softmax_cross_entropy" else (
        x.shape[0], x.shape[1], spec.output_size)
    if target.shape != want:
        raise HarnessError(f"data: expected target of shape {want} for loss={spec.loss}, got {target.shape}")
    if spec.loss == "softmax_cross_entropy" and (not np.issubdtype(target.dtype, np.integer) or target.min() < 0
                                                 or target.max() >= spec.output_size):
        raise HarnessError(f"data: expected integer class labels in 0..{spec.output_size - 1}, got "
                           f"{target.dtype} in {target.min()}..{target.max()}")
    if x.shape[1] < num_steps:
        raise HarnessError(f"data: a row has {x.shape[1]} steps, fewer than num_steps={num_steps}")
    return Stream(x.astype(spec.dtype), target if spec.loss == "softmax_cross_entropy"
                  else target.astype(spec.dtype), stream.name)
