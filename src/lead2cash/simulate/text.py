"""Vectorised rendering of ids, numbers and timestamps into the text real extracts hold.

Everything returns Arrow string arrays built from numpy byte matrices or Arrow
compute kernels, so no Python code runs per value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "Raw", "concat", "const", "date_text", "digits", "json_objects", "money", "sf_ids", "take",
    "time_text", "uuids",
]

_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_SUFFIX = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def _strings(matrix: np.ndarray) -> pa.Array:
    """One Arrow string per row of a uint8 matrix of ASCII codes."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    n, width = matrix.shape
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, pa.py_buffer(matrix.tobytes())])


def _base(values: np.ndarray, width: int, alphabet: np.ndarray) -> np.ndarray:
    """Fixed-width digits of non-negative integers in the alphabet's base, most significant first."""
    radix = len(alphabet)
    powers = radix ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return alphabet[(np.asarray(values, np.int64)[:, None] // powers) % radix]


def digits(values: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal text (SAP document numbers `0000012345`, `POSNR` `000010`)."""
    return _strings(_base(values, width, _B62[:10]))


def sf_ids(prefix: str, values: np.ndarray) -> pa.Array:
    """18-character Salesforce ids: key prefix, pod, base-62 number and the case-safe suffix."""
    n = len(values)
    head = np.broadcast_to(np.frombuffer((prefix + "8d").encode(), np.uint8), (n, 5))
    id15 = np.concatenate([head, _base(values, 10, _B62)], axis=1)
    upper = ((id15 >= ord("A")) & (id15 <= ord("Z"))).reshape(n, 3, 5)
    bits = (upper * (1 << np.arange(5))).sum(axis=2)
    return _strings(np.concatenate([id15, _SUFFIX[bits]], axis=1))


def short_ids(ids: pa.Array, share: float) -> pa.Array:
    """A deterministic `share` of Salesforce id references in their 15-character form.

    Rows are picked by a multiplicative hash of their position, not by the random generator,
    so the rest of the simulation (and its bytes) does not depend on the share.
    """
    if share <= 0 or len(ids) == 0:
        return ids
    pick = np.arange(len(ids), dtype=np.uint64) * np.uint64(2_654_435_761) % np.uint64(1000)
    return pc.if_else(pa.array(pick < share * 1000), pc.utf8_slice_codeunits(ids, 0, 15), ids)


def uuids(values: np.ndarray, namespace: int) -> pa.Array:
    """Deterministic GUID text (Dynamics ids) from integers: 8-4-4-4-12 lowercase hex."""
    hexes = np.concatenate(
        [_base(np.full(len(values), namespace), 16, _HEX), _base(values, 16, _HEX)], axis=1)
    dash = np.full((len(values), 1), ord("-"), np.uint8)
    parts = [hexes[:, :8], dash, hexes[:, 8:12], dash, hexes[:, 12:16], dash,
             hexes[:, 16:20], dash, hexes[:, 20:]]
    return _strings(np.concatenate(parts, axis=1))


def time_text(utc_seconds: np.ndarray, fmt: str) -> pa.Array:
    """Format epoch seconds with a strftime subset (%Y %m %d %H %M %S and literal text).

    Builds the digits as a byte matrix: several times faster than Arrow's strftime.
    """
    s = np.asarray(utc_seconds, np.int64)
    day = (s // 86_400).astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]")
    sec = s % 86_400
    fields = {
        "Y": (year.astype(np.int64) + 1970, 4),
        "m": ((month - year).astype(np.int64) + 1, 2),
        "d": ((day - month).astype(np.int64) + 1, 2),
        "H": (sec // 3600, 2), "M": (sec // 60 % 60, 2), "S": (sec % 60, 2),
    }
    blocks = []
    for i, piece in enumerate(fmt.split("%")):
        if i:
            values, width = fields[piece[0]]
            blocks.append(_base(values, width, _B62[:10]))
            piece = piece[1:]
        if piece:
            blocks.append(np.broadcast_to(np.frombuffer(piece.encode(), np.uint8),
                                          (len(s), len(piece))))
    return _strings(np.concatenate(blocks, axis=1))


def date_text(days: np.ndarray, fmt: str = "%Y-%m-%d") -> pa.Array:
    """Format day ordinals (days since 1970-01-01) as dates."""
    return time_text(np.asarray(days, np.int64) * 86_400, fmt)


def money(cents: np.ndarray) -> pa.Array:
    """Amounts with two decimals (`12345.50`) from integer cents."""
    cents = np.asarray(cents, np.int64)
    whole = pa.array(cents // 100).cast(pa.string())
    return concat(whole, ".", digits(cents % 100, 2))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation of arrays and literals."""
    return pc.binary_join_element_wise(*parts, "")


def take(values: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Strings of a small vocabulary picked by integer codes."""
    return pc.take(pa.array(list(values), pa.string()), pa.array(np.asarray(index, np.int64)))


def const(value: str, n: int) -> pa.Array:
    """The same string n times."""
    return pa.array([value]).take(np.zeros(n, np.int64))


class Raw:
    """A column that already holds JSON text (a nested object or array)."""

    def __init__(self, values: pa.Array) -> None:
        self.values = values


def _json_value(values: pa.Array | Raw) -> pa.Array:
    """JSON text of each value: strings quoted and escaped, numbers and booleans bare, null."""
    if isinstance(values, Raw):
        text = values.values
    elif pa.types.is_string(values.type):
        escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
        text = concat('"', escaped, '"')
    elif pa.types.is_boolean(values.type):
        text = pc.if_else(values, "true", "false")
    else:
        text = values.cast(pa.string())
    return pc.fill_null(text, "null")


def json_objects(columns: dict[str, pa.Array | Raw]) -> pa.Array:
    """One JSON object per row, keys in the given order (REST API items)."""
    parts: list[pa.Array | str] = []
    for i, (name, values) in enumerate(columns.items()):
        parts += [("{" if i == 0 else ",") + f'"{name}":', _json_value(values)]
    return concat(*parts, "}")
