"""Connector configuration: one TOML file, one `[system]` table per source system, good defaults.

Each system module declares its `SETTINGS` (key, default, one-line doc); this
module reads a user's file over those defaults, rejects unknown keys and wrong
types with the file and key named, and prints a system's documented defaults.
"""

from __future__ import annotations

import codecs
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, Lead2CashError, Location
from ..model import ATTRIBUTES, CASE_ATTRIBUTES, AttrType

__all__ = ["Setting", "Settings", "default_toml", "load_config", "status_settings"]

# One system's settings, key -> value (types as the defaults: str, bool, list or dict of str).
Settings = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration key of a system, with its default and what it means."""

    key: str
    default: object
    doc: str


def status_settings(
    status: Mapping[str, tuple[str, ...]], docs: dict[str, str]
) -> tuple[Setting, ...]:
    """Settings for status-value lists, defaulting to the system's values in `sources.defaults`."""
    return tuple(Setting(key, list(status[key]), doc) for key, doc in docs.items())


def _systems() -> dict[str, tuple[Setting, ...]]:
    """Each system's settings (imported lazily: system modules import this one)."""
    from .registry import SYSTEMS

    return {key: (_ENCODING, *module.SETTINGS, _EXTRA, _FIELDS) for key, module in SYSTEMS.items()}


_ENCODING = Setting(
    "encoding",
    "",
    'encoding of the CSV / text files, e.g. "cp1252", "latin-1", "utf-16" (empty: detected per '
    "file: byte-order mark, else UTF-8 when the whole file is UTF-8, else cp1252)",
)


_EXTRA = Setting(
    "extra_fields",
    [],
    "fields of the opportunity object (Opportunity, CRMS4D_OPPT_H, "
    "opportunity, opportunities) carried into the log as extra columns, e.g. FiscalQuarter",
)

# text case attributes a field of the opportunity object can supply
FIELD_ATTRIBUTES = tuple(
    a.name
    for a in ATTRIBUTES
    if a.name in CASE_ATTRIBUTES
    and a.type is AttrType.STRING
    and a.name not in ("SalesOpportunityId", "OpportunityOutcome")
)
_FIELDS = Setting(
    "attribute_fields",
    {},
    "case attribute -> field of the opportunity object read for it, winning over the system's "
    'own source, e.g. OpportunityType = "SalesMethod" (oracle-cx) or LeadSource = '
    f'"Lead_Source__c"; attributes: {", ".join(FIELD_ATTRIBUTES)}',
)


def _toml_value(value: object) -> str:
    """A TOML literal for a default (strings, booleans, lists of strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_toml(system: str) -> str:
    """The documented default configuration of one system, as TOML text."""
    settings = _systems().get(system)
    if settings is None:
        raise Lead2CashError(
            f"unknown system {system!r}", f"choose one of: {', '.join(_systems())}"
        )
    lines = [f'["{system}"]']
    tables: list[tuple[Setting, dict[str, object]]] = []
    for s in settings:
        if isinstance(s.default, dict):
            tables.append((s, s.default))
            continue
        lines += [f"# {s.doc}", f"{s.key} = {_toml_value(s.default)}"]
    for s, table in tables:
        lines += ["", f"# {s.doc}", f'["{system}".{s.key}]']
        lines += [f"{_toml_value(k)} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def load_config(path: Path | None) -> dict[str, Settings]:
    """Every system's settings: the defaults, overridden by the user's TOML file if given."""
    systems = _systems()
    config = {sys: {s.key: s.default for s in settings} for sys, settings in systems.items()}
    if path is None:
        return config
    try:
        user = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise Lead2CashError(
            f"{path}: cannot read the configuration ({exc})",
            "fix the TOML syntax; start from --print-default-config SYSTEM",
        ) from exc
    for system, values in user.items():
        if system not in systems or not isinstance(values, Mapping):
            raise InputError(
                Location(str(path), column=system),
                "unknown system table",
                f"use one of: {', '.join(systems)}",
            )
        for key, value in values.items():
            _check(path, system, key, value, config[system])
            config[system][key] = value
    return config


def _check(path: Path, system: str, key: str, value: object, defaults: Settings) -> None:
    """Reject unknown keys and values whose type differs from the default's."""
    where = Location(str(path), f"[{system}]", key)
    if key not in defaults:
        raise InputError(where, "unknown setting", f"known settings: {', '.join(defaults)}")
    default = defaults[key]
    kind = (
        dict
        if isinstance(default, dict)
        else list
        if isinstance(default, list | tuple)
        else type(default)
    )
    if not isinstance(value, kind):
        raise InputError(where, f"expected a {kind.__name__}", "see --print-default-config", value)
    if key == _ENCODING.key and value:
        try:
            codecs.lookup(str(value))
        except LookupError:
            raise InputError(
                where,
                "unknown encoding",
                'use a Python codec name such as "utf-8", "utf-16", "cp1252" or "latin-1"',
                value,
            ) from None
    if key == _FIELDS.key:
        for attribute, field_name in value.items():
            if attribute not in FIELD_ATTRIBUTES or not isinstance(field_name, str):
                raise InputError(
                    Location(str(path), f"[{system}.{key}]", attribute),
                    "not a text case attribute mapped to a field name",
                    f'use one of {", ".join(FIELD_ATTRIBUTES)} = "<field>"',
                    field_name,
                )
