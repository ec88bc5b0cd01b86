"""NumPy arrays to Arrow and back without pyarrow's pandas shim.

Why: `pa.array(...)` and `Array.to_numpy()` import pandas whenever it is installed (pyarrow
checks every input for pandas types), which costs a whole-process XES import about 0.1 s of
its 3 s for a library the import never uses. These helpers build Arrow arrays on NumPy's
buffers and read them back the same way, for the plain types the XES reader exchanges:
numbers and booleans, with or without missing values, and strings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["binary_scalar", "from_numpy", "strings", "to_numpy"]

_TYPES = {np.dtype(np.int8): pa.int8(), np.dtype(np.int32): pa.int32(),
          np.dtype(np.int64): pa.int64(), np.dtype(np.float64): pa.float64()}
_DTYPES = {kind: dtype for dtype, kind in _TYPES.items()} | {
    pa.uint8(): np.dtype(np.uint8), pa.uint32(): np.dtype(np.uint32),
    pa.uint64(): np.dtype(np.uint64), pa.int16(): np.dtype(np.int16)}


def _bits(mask: np.ndarray) -> pa.Buffer:
    """A boolean NumPy array as Arrow's bitmap (least significant bit first)."""
    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def from_numpy(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A one-dimensional NumPy array (booleans, int8/32/64, float64) as an Arrow array;
    `missing` marks the positions that are null."""
    values = np.ascontiguousarray(values)
    validity = None if missing is None or not missing.any() else _bits(~missing)
    if values.dtype == np.bool_:
        return pa.Array.from_buffers(pa.bool_(), len(values), [validity, _bits(values)])
    kind = _TYPES.get(values.dtype)
    if kind is None:
        raise TypeError(f"no Arrow type for NumPy {values.dtype}")
    return pa.Array.from_buffers(kind, len(values), [validity, pa.py_buffer(values)])


def strings(texts: Sequence[str]) -> pa.Array:
    """Python strings as an Arrow string array (no nulls)."""
    encoded = [t.encode() for t in texts]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    if offsets[-1] >= 2**31:
        return pa.Array.from_buffers(pa.large_string(), len(encoded),
                                     [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
                                     ).cast(pa.string())
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets.astype(np.int32)),
                                  pa.py_buffer(b"".join(encoded))])


def binary_scalar(value: bytes) -> pa.Scalar:
    """A binary Arrow scalar (`pa.scalar` also goes through the pandas check)."""
    offsets = np.array([0, len(value)], np.int32)
    return pa.Array.from_buffers(pa.binary(), 1, [None, pa.py_buffer(offsets),
                                                  pa.py_buffer(value)])[0]


def to_numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow array of booleans or fixed-width numbers without nulls as a NumPy array
    (numbers: a read-only view on the Arrow buffer, as `to_numpy(zero_copy_only=False)`)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        raise ValueError("to_numpy: the array has nulls")
    if pa.types.is_dictionary(array.type):
        raise TypeError("to_numpy: read the dictionary's indices instead")
    buffer = array.buffers()[1]
    if pa.types.is_boolean(array.type):
        bits = np.unpackbits(np.frombuffer(buffer, np.uint8), bitorder="little")
        return bits[array.offset:array.offset + len(array)].astype(bool)
    dtype = _DTYPES.get(array.type)
    if dtype is None:
        raise TypeError(f"to_numpy: no NumPy type for Arrow {array.type}")
    return np.frombuffer(buffer, dtype)[array.offset:array.offset + len(array)]
