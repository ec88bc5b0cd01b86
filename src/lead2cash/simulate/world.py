"""The company's fixed cast, drawn once per seed: customers, sales reps, products."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..sources.countries import COUNTRIES as COUNTRY_TABLE
from ..sources.defaults import REGION_BY_COUNTRY, REGIONS
from .params import SimulationParams
from .text import concat, take

__all__ = ["World", "REGIONS", "COUNTRIES"]

# The customers' countries (ISO codes) and how often each occurs.
COUNTRIES: tuple[str, ...] = ("US", "CA", "DE", "FR", "GB", "NL", "IT", "JP", "AU", "SG", "IN",
                              "BR", "MX", "AR")
_COUNTRY_WEIGHTS = np.array([30, 5, 10, 6, 7, 4, 3, 6, 3, 2, 3, 4, 2, 1], float)
_WORDS = ("Global", "Northern", "Blue", "Summit", "Pioneer", "Apex", "Silver", "Union",
          "Atlas", "Bright", "Crescent", "Delta", "Evergreen", "Falcon", "Granite", "Harbor",
          "Ionic", "Juniper", "Keystone", "Lumen")
_NOUNS = ("Tech", "Logistics", "Foods", "Energy", "Systems", "Retail", "Health", "Motors",
          "Media", "Pharma", "Textiles", "Metals", "Labs", "Capital", "Foods Group",
          "Software", "Airlines", "Chemicals", "Robotics", "Insurance")
_FORMS = ("Inc.", "GmbH", "Ltd.", "S.A.", "AG")
_FIRST = ("Jane", "Omar", "Li", "Maria", "Tom", "Aisha", "Lukas", "Priya", "Diego", "Emma",
          "Kenji", "Sara", "Noah", "Fatima", "Ivan", "Chloe", "Ravi", "Anna", "Mateo", "Yuki")
_LAST = ("Doe", "Schmidt", "Chen", "Garcia", "Smith", "Khan", "Weber", "Patel", "Lopez",
         "Martin", "Sato", "Rossi", "Brown", "Haddad", "Petrov", "Dubois", "Nair", "Novak")


@dataclass(frozen=True, slots=True)
class World:
    """Customers (name, country, payment habit) and reps (name, region, discount habit)."""

    customer_name: pa.Array
    customer_country: np.ndarray
    customer_late_days: np.ndarray
    rep_name: pa.Array
    rep_region: np.ndarray
    rep_heavy_discount: np.ndarray

    @property
    def customer_region(self) -> np.ndarray:
        """Region code of each customer (index into REGIONS)."""
        lookup = np.array([REGIONS.index(REGION_BY_COUNTRY[c]) for c in COUNTRIES])
        return lookup[self.customer_country]

    def country_values(self, share: float) -> pa.Array:
        """Each customer's country as a CRM export writes it: the ISO code, or, for a `share`
        of the customers (picked by a hash of their number, so nothing else changes), one of
        the country's names (English, native or common: "Deutschland", "México", "USA")."""
        codes = take(COUNTRIES, self.customer_country)
        if share <= 0:
            return codes
        names = {c.alpha2: c.names for c in COUNTRY_TABLE}
        h = (np.arange(len(self.customer_country), dtype=np.uint64) * np.uint64(2654435761)
             ) % np.uint64(1 << 32)
        out = codes.to_pylist()
        for i in np.flatnonzero(h < share * (1 << 32)):
            options = names[out[i]]
            out[i] = options[int(h[i] >> np.uint64(8)) % len(options)]
        return pa.array(out, pa.string())

    @staticmethod
    def build(p: SimulationParams, cases: int, seed: int) -> World:
        """Draw the cast for a simulation of `cases` opportunities."""
        rng = np.random.default_rng([seed, 0])
        n = max(200, cases // 5)
        i = np.arange(n)
        name = concat(take(_WORDS, i % 20), " ", take(_NOUNS, (i // 20) % 20), " ",
                      take(_FORMS, (i // 400) % 5))
        if n > 2000:
            suffix = pa.array(np.where(i >= 2000, " " + (i // 2000).astype(str), ""))
            name = concat(name, suffix)
        country = rng.choice(len(COUNTRIES), n, p=_COUNTRY_WEIGHTS / _COUNTRY_WEIGHTS.sum())
        late = rng.normal(0.0, p.late_days_customer_sigma, n)
        r = np.arange(p.reps)
        rep_name = concat(take(_FIRST, r % 20), " ", take(_LAST, (r * 7 + r // 20) % 18))
        heavy = rng.random(p.reps) < p.rep_discount_share
        return World(name, country, late, rep_name, r % len(REGIONS), heavy)
