"""io/arrow_numpy.py builds and reads Arrow arrays on NumPy buffers (so that pyarrow does not
load pandas): the same arrays as pyarrow's own conversions, sliced arrays and nulls included."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lead2cash.io.arrow_numpy import binary_scalar, from_numpy, strings, to_numpy

DTYPES = (np.int8, np.int32, np.int64, np.float64, np.bool_)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(-100, 100), max_size=40), dtype=st.sampled_from(DTYPES),
       nulls=st.lists(st.booleans(), max_size=40), cut=st.integers(0, 40))
def test_round_trip_equals_pyarrow(values: list[int], dtype: type, nulls: list[bool],
                                   cut: int) -> None:
    array = np.array(values, dtype=dtype)
    missing = np.array((nulls + [False] * len(values))[:len(values)], dtype=bool)
    ours = from_numpy(array, missing)
    assert ours.equals(pa.array(array, mask=missing))
    clean = from_numpy(array)
    assert clean.equals(pa.array(array)) and clean.null_count == 0
    piece = clean.slice(min(cut, len(values)) // 2, cut)  # an offset into the buffers
    assert np.array_equal(to_numpy(piece), piece.to_numpy(zero_copy_only=False))
    assert to_numpy(piece).dtype == piece.to_numpy(zero_copy_only=False).dtype


@given(texts=st.lists(st.text(), max_size=20))
def test_strings_equal_pyarrow(texts: list[str]) -> None:
    assert strings(texts).equals(pa.array(texts, pa.string()))


def test_a_binary_scalar_and_what_is_refused() -> None:
    assert binary_scalar(b" value=") == pa.scalar(b" value=", pa.binary())
    assert np.array_equal(to_numpy(pa.chunked_array([[1, 2], [3]], pa.int64())), [1, 2, 3])
    with pytest.raises(ValueError):
        to_numpy(pa.array([1, None]))
    with pytest.raises(TypeError):
        from_numpy(np.array(["a"]))
    with pytest.raises(TypeError):
        to_numpy(pa.array(["a"]))
