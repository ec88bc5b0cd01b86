"""What a CRM's stage history says, row by row and per case, for the renderers to encode."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..sources.defaults import Stage
from .process import Chunk

__all__ = ["History"]


@dataclass(slots=True)
class History:
    """Per history row: first of its case, previous stage, close, reopen; per case: the state."""

    first_row: np.ndarray
    prev: np.ndarray  # previous row's stage (0 on a case's first row)
    is_close: np.ndarray
    reopen: np.ndarray
    amount: np.ndarray  # per case: amount of its last row (the value at extraction)
    current: np.ndarray  # per case: the last open stage entered
    last_time: np.ndarray  # per case: time of its last row
    final_closed: np.ndarray
    final_won: np.ndarray

    @staticmethod
    def of(c: Chunk, stages: tuple[Stage, ...]) -> History:
        """Derive the row flags and case state of a chunk's history under a system's stages."""
        closed = np.array([s.closed for s in stages])
        won = np.array([s.won for s in stages])
        first_row = np.r_[True, c.h_case[1:] != c.h_case[:-1]]
        last_row = np.r_[c.h_case[1:] != c.h_case[:-1], True]
        prev = np.where(first_row, 0, np.r_[0, c.h_stage[:-1]])
        is_close = closed[c.h_stage]
        amount = np.zeros(c.n, np.int64)
        amount[c.h_case[last_row]] = c.h_amount[last_row]
        current = np.zeros(c.n, np.int64)
        current[c.h_case[~is_close]] = c.h_stage[~is_close]  # later rows overwrite earlier ones
        last_time = np.zeros(c.n, np.int64)
        last_time[c.h_case[last_row]] = c.h_time[last_row]
        return History(first_row, prev, is_close, ~first_row & closed[prev] & ~is_close, amount,
                       current, last_time, closed[c.final_stage], won[c.final_stage])
