"""The built-in reference model: the Lead-to-Cash happy path as a Petri net.

    Opportunity Created
    -> [Opportunity Qualified] -> [Requirements Gathered] -> [Solution Proposed]
    -> [Quote Issued, again after each revision]
    -> Opportunity Lost (end; Opportunity Reopened goes back to the proposal)
     | [Quote Accepted] -> [Contract Signed] -> Opportunity Won
       (Opportunity Reopened after a win goes back to the proposal too)
       -> Sales Order Created -> (Order Fulfilled -> Invoice Generated), once or more
       -> Payment Received, once or more -> end

Steps in brackets may be skipped (an invisible transition). Activities that are
not in the model (Opportunity Stage Changed) are moves on log for alignments and
are skipped by token replay. `lead2cash mine conformance --print-model` writes
it as PNML, to edit and pass back with `--model`.
"""

from __future__ import annotations

from ..model import ACTIVITY_NAMES
from .petri import Arc, PetriNet, Transition

__all__ = ["reference_model"]


def _act(name: str) -> str:
    """An activity name, checked against the model."""
    assert name in ACTIVITY_NAMES, name
    return name


# (transition id, label or None for invisible, input places, output places)
_STEPS: tuple[tuple[str, str | None, tuple[str, ...], tuple[str, ...]], ...] = (
    ("created", _act("Opportunity Created"), ("start",), ("p_created",)),
    ("qualified", _act("Opportunity Qualified"), ("p_created",), ("p_qualified",)),
    ("skip_qualified", None, ("p_created",), ("p_qualified",)),
    ("requirements", _act("Requirements Gathered"), ("p_qualified",), ("p_needs",)),
    ("skip_requirements", None, ("p_qualified",), ("p_needs",)),
    ("solution", _act("Solution Proposed"), ("p_needs",), ("p_proposal",)),
    ("skip_solution", None, ("p_needs",), ("p_proposal",)),
    ("quote", _act("Quote Issued"), ("p_proposal",), ("p_quoted",)),
    ("skip_quote", None, ("p_proposal",), ("p_quoted",)),
    ("revise_quote", None, ("p_quoted",), ("p_proposal",)),
    ("lost", _act("Opportunity Lost"), ("p_quoted",), ("p_lost",)),
    ("end_lost", None, ("p_lost",), ("end",)),
    ("reopened_lost", _act("Opportunity Reopened"), ("p_lost",), ("p_proposal",)),
    ("accepted", _act("Quote Accepted"), ("p_quoted",), ("p_accepted",)),
    ("skip_accepted", None, ("p_quoted",), ("p_accepted",)),
    ("contract", _act("Contract Signed"), ("p_accepted",), ("p_contract",)),
    ("skip_contract", None, ("p_accepted",), ("p_contract",)),
    ("won", _act("Opportunity Won"), ("p_contract",), ("p_won",)),
    ("reopened_won", _act("Opportunity Reopened"), ("p_won",), ("p_proposal",)),
    ("order", _act("Sales Order Created"), ("p_won",), ("p_ordered",)),
    ("fulfilled", _act("Order Fulfilled"), ("p_ordered",), ("p_delivered",)),
    ("invoice", _act("Invoice Generated"), ("p_delivered",), ("p_invoiced",)),
    ("next_delivery", None, ("p_invoiced",), ("p_ordered",)),
    ("payment", _act("Payment Received"), ("p_invoiced",), ("p_paid",)),
    ("next_payment", None, ("p_paid",), ("p_invoiced",)),
    ("end_paid", None, ("p_paid",), ("end",)),
)


def reference_model() -> PetriNet:
    """The Lead-to-Cash happy path (see the module docstring), start to end place."""
    places: dict[str, None] = {}
    arcs: list[Arc] = []
    for name, _label, ins, outs in _STEPS:
        for p in ins:
            places.setdefault(p)
            arcs.append(Arc(p, name))
        for p in outs:
            places.setdefault(p)
            arcs.append(Arc(name, p))
    return PetriNet(
        tuple(places), tuple(Transition(n, label) for n, label, _, _ in _STEPS), tuple(arcs),
        {"start": 1}, {"end": 1}, "lead-to-cash reference model", "the built-in reference model",
    )
