"""The rollup's binary formats: sparse vectors of element sums and the composite integer keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .catalog import FACILITY_TYPES

ALL_TYPES = "*"  # the ftype of facility rows and of aggregate rows over every type
TYPE_NAMES = [ALL_TYPES, *FACILITY_TYPES]
TYPE_CODES = {t: i for i, t in enumerate(TYPE_NAMES)}

# One record per data element present: (element id, Σ value). Packed, so the blobs of many
# rows joined together are one array that numpy reads without a Python loop.
VECTOR = np.dtype([("id", "<u2"), ("v", "<f8")])

# Composite integer keys for the rollup build: unit | type | period index | data element.
DE_BITS, PERIOD_BITS, TYPE_BITS = 12, 14, 4


def check_element_ids(ids: Iterable[int]) -> None:
    """Refuse data-element ids the key (and the vector) cannot hold: they would silently add
    into another element's sums."""
    too_big = sorted({int(i) for i in ids if not 0 <= int(i) < 1 << DE_BITS})
    if too_big:
        raise ValueError(
            f"data element ids {too_big[:5]} do not fit the rollup key ({DE_BITS} bits)"
        )


def pack_key(unit, ftype, pidx, de) -> np.ndarray:
    k = np.asarray(unit, dtype=np.int64) << TYPE_BITS | np.asarray(ftype, dtype=np.int64)
    k = k << PERIOD_BITS | np.asarray(pidx, dtype=np.int64)
    return k << DE_BITS | np.asarray(de, dtype=np.int64)


def unpack_key(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(unit, type code, period index, data element) of each key."""
    de = keys & ((1 << DE_BITS) - 1)
    rest = keys >> DE_BITS
    pidx = rest & ((1 << PERIOD_BITS) - 1)
    rest = rest >> PERIOD_BITS
    return rest >> TYPE_BITS, rest & ((1 << TYPE_BITS) - 1), pidx, de


def encode_groups(keys: np.ndarray, sums: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
    """One vector per run of keys sharing unit, type and period (keys sorted within a run).

    Returns the first key of each run and its blob."""
    group = keys >> DE_BITS
    change = np.flatnonzero(group[1:] != group[:-1]) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    ends = np.concatenate([change, [len(keys)]]).astype(np.int64)
    rec = np.empty(len(keys), dtype=VECTOR)
    rec["id"] = keys & ((1 << DE_BITS) - 1)
    rec["v"] = sums
    buf = rec.tobytes()
    size = VECTOR.itemsize
    return keys[starts], [buf[a * size : b * size] for a, b in zip(starts, ends, strict=True)]


def decode_vectors(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """All records of many blobs, and for each record the index of the blob it came from."""
    joined = b"".join(bytes(b) for b in blobs)
    rec = np.frombuffer(joined, dtype=VECTOR)
    lengths = np.fromiter(
        (len(b) // VECTOR.itemsize for b in blobs), dtype=np.int64, count=len(blobs)
    )
    return rec, np.repeat(np.arange(len(blobs)), lengths)
