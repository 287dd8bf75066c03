"""Independent, reproducible random streams: one per (seed, purpose, month, ...).

Each purpose draws from its own stream, so changing how one channel uses randomness leaves every
other channel's output unchanged, and the same arguments always give the same bytes.
"""
from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """A generator for `purpose` (a fixed name) and integer keys such as a month index."""
    # crc32 is stable across runs and platforms, unlike hash().
    entropy = [seed, zlib.crc32(purpose.encode("ascii")), *keys]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def scramble(values: np.ndarray, modulus: int, seed: int, purpose: str) -> np.ndarray:
    """A bijection of `[0, modulus)` applied to `values`: unique numbers that look random."""
    rng = stream(seed, purpose)
    multiplier = int(rng.integers(modulus // 3, modulus - 1))
    while np.gcd(multiplier, modulus) != 1:
        multiplier += 1
    offset = int(rng.integers(0, modulus))
    return (np.asarray(values, dtype=np.int64) * multiplier + offset) % modulus
