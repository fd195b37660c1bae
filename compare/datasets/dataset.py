"""The one shape every data source ends in: `Raw` values, then a checked `Dataset`.

Loaders return `Raw`: uint8 pixels (0..255, one flattened image per row) or
float64 features (one point per row, e.g. spiky-2d's x and y), and integer
labels; the chosen preprocessing turns it into a `Dataset` of floats in the
network's dtype.  Both implementations then read the very same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from handrolled import DTYPES, one_hot
from handrolled.errors import SpecError


@dataclass(frozen=True, eq=False)
class Raw:
    """Values as loaded and labels, before preprocessing.

    X_* are either uint8 pixels (0..255, one flattened image per row; `scale`
    divides them by 255) or float64 features (finite, one sample per row;
    `scale` leaves them as they are): `pixels` says which.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int
    source: str  # where the numbers came from, for the report's environment section
    image_shape: tuple[int, ...] | None = None  # one image, (height, width, channels)

    def __post_init__(self):
        _check_image_shape(self.source, self.image_shape, self.X_train.shape[1])
        kinds = {str(self.X_train.dtype), str(self.X_test.dtype)}
        if kinds not in ({"uint8"}, {"float64"}):
            raise SpecError(f"{self.source}: values are {' and '.join(sorted(kinds))}; a loader "
                            f"must give uint8 pixels or float64 features, the same for both sets")
        for part in ("train", "test"):
            X, y = getattr(self, f"X_{part}"), getattr(self, f"y_{part}")
            if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
                raise SpecError(f"{self.source}: {part} set has {X.shape[0]} rows of shape "
                                f"{X.shape[1:]} but {y.shape[0]} labels; expected one label "
                                f"per row (a flattened image or a feature vector)")
            if not self.pixels and not np.isfinite(X).all():
                raise SpecError(f"{self.source}: {part} features contain NaN or inf; "
                                f"features must be finite numbers")

    @property
    def pixels(self) -> bool:
        """True for uint8 pixels (0..255), False for float64 features."""
        return self.X_train.dtype == np.uint8


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test arrays ready for both implementations.

    X_* are (n, inputs) floats in one dtype, y_* are (n,) int64 labels in
    0..classes-1, Y_* the same labels one-hot in X's dtype (made once, here).
    The validation set is optional (None unless `split_validation` made one).
    Rows are stored flat; `image_shape` says how one row is an image, (height,
    width, channels), so that `input_shape` and `images` give image-shaped
    arrays to a network that starts with a convolution (None: plain features).
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int
    preprocess: str = "raw"
    source: str = ""
    X_validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None
    image_shape: tuple[int, ...] | None = None
    Y_train: np.ndarray = field(init=False, repr=False)
    Y_test: np.ndarray = field(init=False, repr=False)
    Y_validation: np.ndarray | None = field(init=False, repr=False, default=None)

    def __post_init__(self):
        _check_image_shape(f"dataset {self.name}", self.image_shape, self.X_train.shape[1]
                           if getattr(self.X_train, "ndim", 0) == 2 else None)
        if isinstance(self.classes, bool) or not isinstance(self.classes, (int, np.integer)) \
                or self.classes < 2:
            raise SpecError(f"dataset {self.name}: classes must be an integer >= 2, "
                            f"got {self.classes!r}")
        object.__setattr__(self, "classes", int(self.classes))
        if (self.X_validation is None) != (self.y_validation is None):
            raise SpecError(f"dataset {self.name}: a validation set needs both X_validation "
                            f"and y_validation")
        parts = ("train", "test") if self.X_validation is None else ("train", "test", "validation")
        for part in parts:
            self._check_part(part)
            X = getattr(self, f"X_{part}")
            if X.dtype != self.X_train.dtype or X.shape[1] != self.X_train.shape[1]:
                raise SpecError(f"dataset {self.name}: train is {self.X_train.dtype} with "
                                f"{self.X_train.shape[1]} inputs, {part} is {X.dtype} with "
                                f"{X.shape[1]}; all sets need the same dtype and width")
            Y = one_hot(getattr(self, f"y_{part}"), self.classes, str(self.X_train.dtype))
            object.__setattr__(self, f"Y_{part}", Y)

    def _check_part(self, part: str) -> None:
        X, y = getattr(self, f"X_{part}"), np.asarray(getattr(self, f"y_{part}"))
        what = f"dataset {self.name}, {part} set"
        if not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise SpecError(f"{what}: X must be a non-empty 2-D array (samples, inputs), "
                            f"got shape {np.shape(X)}")
        if str(X.dtype) not in DTYPES:
            raise SpecError(f"{what}: X is {X.dtype}; accepted: {', '.join(DTYPES)}")
        if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise SpecError(f"{what}: labels must be {X.shape[0]} integers (one per row of X), "
                            f"got {y.dtype} of shape {y.shape}")
        outside = (y < 0) | (y >= self.classes)
        if outside.any():
            raise SpecError(f"{what}: label {int(y[outside][0])} is outside the class range "
                            f"0..{self.classes - 1} ({int(outside.sum())} such labels)")
        if not np.isfinite(X).all():
            row = int(np.flatnonzero(~np.isfinite(X).all(axis=1))[0])
            raise SpecError(f"{what}: X contains NaN or inf (first in row {row}); "
                            f"inputs must be finite numbers")
        object.__setattr__(self, f"y_{part}", y.astype(np.int64, copy=False))

    @property
    def inputs(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One row's shape: the image's (height, width, channels), else (inputs,)."""
        return tuple(self.image_shape) if self.image_shape else (self.inputs,)

    def images(self, part: str = "train") -> np.ndarray:
        """X of `part` ('train', 'test', 'validation') as (n, height, width, channels)."""
        if not self.image_shape:
            raise SpecError(f"dataset {self.name} has no image shape: its rows are features")
        X = getattr(self, f"X_{part}")
        return X.reshape(X.shape[0], *self.image_shape)

    @property
    def dtype(self) -> str:
        return str(self.X_train.dtype)

    def split_validation(self) -> "Dataset":
        """The book's three sets: the test set's first half validates, the second tests.

        As in the book, `X_validation, X_test = np.split(X_test_all, 2)`; an odd
        test set gives the extra row to the test half.
        """
        if self.X_validation is not None:
            raise SpecError(f"dataset {self.name} already has a validation set")
        if len(self.y_test) < 2:
            raise SpecError(f"dataset {self.name}: {len(self.y_test)} test row cannot be split "
                            f"into validation and test halves")
        half = len(self.y_test) // 2
        return replace(self, X_validation=self.X_test[:half], y_validation=self.y_test[:half],
                       X_test=self.X_test[half:], y_test=self.y_test[half:])

    def summary(self) -> str:
        """One line for tables and reports."""
        validation = "" if self.y_validation is None else f" / {len(self.y_validation)} validation"
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_test)} test{validation}, "
                f"{self._inputs_text()}, {self.classes} classes, {self.preprocess}, {self.dtype}")

    def _inputs_text(self) -> str:
        if self.image_shape:
            return f"{'x'.join(map(str, self.image_shape))} images ({self.inputs} inputs)"
        return f"{self.inputs} inputs"


def _check_image_shape(what: str, image_shape, inputs: int | None) -> None:
    """An image shape must be (height, width, channels) of positive ints covering each row."""
    if image_shape is None or inputs is None:
        return
    shape = tuple(image_shape)
    if len(shape) != 3 or not all(isinstance(d, (int, np.integer)) and d >= 1 for d in shape) \
            or int(np.prod(shape)) != inputs:
        raise SpecError(f"{what}: image shape {shape} does not describe rows of {inputs} "
                        f"values; expected (height, width, channels) with that product")
