"""`spiky-2d`: a generated two-class set of points in the plane, for the book's Part 3.

The book's chapters 16 and 17 train small deep networks on a two-class, 2-D
set whose class 1 is a spiky shape; that file is not used here.  This one is
generated from its definition, seeded, in milliseconds:

    star radius     r(theta) = 0.4 + 0.4 * ((1 + cos(7 theta)) / 2) ** 2
                    a disc of radius 0.4 with 7 rounded spikes reaching 0.8
    candidates      (x, y) uniform in the square [-1, 1] x [-1, 1]
    label           1 if sqrt(x^2 + y^2) < r(theta) + 0.03 z, z ~ N(0, 1) per point,
                    else 0: the boundary is blurred, so near it either class occurs
    sizes           1,500 points of each class, in the order drawn: the first
                    1,000 of each train, the other 500 of each test (2,000 / 1,000,
                    exactly balanced), each set shuffled

The seed of `load_dataset` is the generator's seed (numpy default_rng): the
same seed gives the same points, another seed other points from the same rule.
Features are float64 coordinates in [-1, 1]: `--preprocess scale` and `raw`
keep them as they are, `standardize` applies one mean and std.

How hard: a straight line gets about half the points right (the star is
centred on the origin), the best circle about 85 %, the rule's own boundary
(no blur) about 97 %: a network has to learn the spikes to go beyond a circle,
and the blur keeps it from 100 %.  Measured with handrolled's SGD epoch,
100:sigmoid,30:sigmoid and binary_crossentropy, Glorot weights, learning rate
1, batches of 32, rows shuffled, seed 0: test accuracy 74 % after 200 epochs,
93 % after 400, 96-97 % from 800 to 2,000 (about 15 ms an epoch); with
--preprocess standardize 94 % after 200 epochs, 96 % after 800.
"""

from __future__ import annotations

import numpy as np

from .dataset import Raw

NAME = "spiky-2d"
CLASSES = 2
TRAIN_PER_CLASS, TEST_PER_CLASS = 1000, 500
SPIKES = 7            # spikes around the star
BASE_RADIUS = 0.4     # the star's body: a disc of this radius
SPIKE_LENGTH = 0.4    # how far a spike reaches beyond the body
SPIKE_SHARPNESS = 2   # the power that narrows the spikes
BLUR = 0.03           # standard deviation of the boundary's jitter
CANDIDATES = 8192     # points drawn per round until both classes are full


def star_radius(theta: np.ndarray) -> np.ndarray:
    """The boundary of class 1 at angle theta (radians)."""
    wave = (1 + np.cos(SPIKES * theta)) / 2
    return BASE_RADIUS + SPIKE_LENGTH * wave ** SPIKE_SHARPNESS


def generate(rng: np.random.Generator, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` points of class 1, then as many of class 0, in the order drawn."""
    taken = {0: [], 1: []}
    counts = {0: 0, 1: 0}
    while min(counts.values()) < per_class:
        points = rng.uniform(-1.0, 1.0, size=(CANDIDATES, 2))
        jitter = BLUR * rng.standard_normal(CANDIDATES)
        distance = np.hypot(points[:, 0], points[:, 1])
        inside = distance < star_radius(np.arctan2(points[:, 1], points[:, 0])) + jitter
        for label, members in ((1, points[inside]), (0, points[~inside])):
            keep = members[:per_class - counts[label]]
            taken[label].append(keep)
            counts[label] += len(keep)
    X = np.concatenate([*taken[1], *taken[0]])
    y = np.repeat(np.array([1, 0], dtype=np.int64), per_class)
    return X, y


def load_spiky_2d(seed: int = 0, cache_dir=None) -> Raw:  # generated: nothing to cache
    rng = np.random.default_rng(seed)  # one stream: the points, then the two shuffles
    per_class = TRAIN_PER_CLASS + TEST_PER_CLASS
    X, y = generate(rng, per_class)
    first = np.concatenate([np.arange(TRAIN_PER_CLASS), per_class + np.arange(TRAIN_PER_CLASS)])
    rest = np.setdiff1d(np.arange(2 * per_class), first)
    train, test = rng.permutation(first), rng.permutation(rest)
    source = (f"generated: {NAME} with seed {seed} ({SPIKES}-spike star of radius "
              f"{BASE_RADIUS}..{BASE_RADIUS + SPIKE_LENGTH}, boundary blur {BLUR}, points "
              f"uniform in [-1, 1]^2; compare/datasets/spiky.py)")
    return Raw(X_train=X[train], y_train=y[train], X_test=X[test], y_test=y[test],
               classes=CLASSES, source=source, image_shape=None)
