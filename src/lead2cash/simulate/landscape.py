"""Landscapes: which system holds the CRM part and which the order-to-cash part."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

from ..errors import Lead2CashError

__all__ = ["LANDSCAPES", "Landscape", "landscape"]


@dataclass(frozen=True, slots=True)
class Landscape:
    """A named landscape: the CRM system module and the order-to-cash system module.

    The modules are named, and imported when first used, so that listing the landscapes
    (e.g. in `lead2cash simulate --help`) does not load the simulator.
    """

    name: str
    crm_module: str
    o2c_module: str

    @property
    def crm(self) -> ModuleType:
        """The module rendering the CRM part."""
        return import_module(f"{__package__}.{self.crm_module}")

    @property
    def o2c(self) -> ModuleType:
        """The module rendering the order-to-cash part."""
        return import_module(f"{__package__}.{self.o2c_module}")

    @property
    def systems(self) -> tuple[ModuleType, ...]:
        """One module per distinct system (by `KEY`), CRM first."""
        return (self.crm,) if self.crm.KEY == self.o2c.KEY else (self.crm, self.o2c)

    @property
    def modules(self) -> tuple[ModuleType, ...]:
        """The distinct renderer modules (a system may have a CRM and an order-to-cash one)."""
        return (self.crm,) if self.crm is self.o2c else (self.crm, self.o2c)


LANDSCAPES: dict[str, Landscape] = {
    "salesforce+sap-s4hana": Landscape("salesforce+sap-s4hana", "salesforce", "sap"),
    "salesforce": Landscape("salesforce", "salesforce", "salesforce"),
    "sap-s4hana": Landscape("sap-s4hana", "sap_crm", "sap"),
    "dynamics365": Landscape("dynamics365", "dynamics", "dynamics"),
    "oracle-cx": Landscape("oracle-cx", "oracle", "oracle"),
}


def landscape(name: str) -> Landscape:
    """Look a landscape up by name, failing with the list of known ones."""
    try:
        return LANDSCAPES[name]
    except KeyError:
        raise Lead2CashError(
            f"unknown landscape {name!r}",
            f"choose one of: {', '.join(LANDSCAPES)}",
        ) from None


