"""Writing small CIFAR-10 binary batch files for tests, independently of compare.datasets.cifar10.

From the format's definition only: each record is one label byte, then the
image's red plane (1,024 bytes, row-major 32x32), its green plane, its blue
plane.  Images are given here as (n, 32, 32, 3) arrays, height, width, channel,
and the planes are cut out one channel at a time, so a reader's transpose
cannot be mirrored by the writer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
RECORD = 1 + 32 * 32 * 3


def batch_bytes(images: np.ndarray, labels) -> bytes:
    """Records of (n, 32, 32, 3) uint8 images and their labels, in the binary version's layout."""
    out = bytearray()
    for image, label in zip(images, labels):
        out.append(int(label))
        for channel in range(3):  # red, green, blue: each plane row by row
            out += bytes(int(v) for row in image[:, :, channel] for v in row)
    return bytes(out)


def small_batches(per_batch: int = 3, n_test: int = 4, seed: int = 0):
    """Seeded images and labels: {file name: (images (n, 32, 32, 3), labels (n,))}."""
    rng = np.random.default_rng(seed)
    names = [*TRAIN_FILES, TEST_FILE]
    sizes = [per_batch] * len(TRAIN_FILES) + [n_test]
    return {name: (rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8),
                   rng.integers(0, 10, size=n).astype(np.uint8))
            for name, n in zip(names, sizes)}


def write_cifar_dir(directory: Path, batches=None) -> Path:
    """The six .bin files in `directory` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    batches = small_batches() if batches is None else batches
    for name, (images, labels) in batches.items():
        (directory / name).write_bytes(batch_bytes(images, labels))
    return directory
