"""The parts of a state transition that do not depend on the store.

Both backends apply a transition as a compare-and-swap on ``(state, update_count)``
(:func:`harness.store.repository.transit` in SQL, the memory repositories in
:mod:`harness.store.memory_repos`). What the swap means is decided here, once:

1. :func:`next_state`: the state machine's verdict (raises ``InvalidTransition``);
2. the backend swaps the stored row, or raises :func:`conflict` when someone moved it first;
3. :func:`applied`: the transition is logged and the caller's entity follows the row.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from harness.domain.errors import ConcurrentOperation
from harness.domain.states import StateMachine

log = logging.getLogger("hvsnap.transitions")


def next_state(fsm: StateMachine[Any, Any], entity: Any, event: StrEnum) -> Any:
    """The state ``event`` leads ``entity`` to; ``InvalidTransition`` when it may not."""
    return fsm.next_state(entity.state, event)


def conflict(fsm: StateMachine[Any, Any], entity: Any, event: StrEnum) -> ConcurrentOperation:
    """The error for a lost compare-and-swap: another writer changed the row first."""
    return ConcurrentOperation(
        f"{fsm.entity} {entity.uuid} was changed by someone else while {event} was applied; try again"
    )


def applied(fsm: StateMachine[Any, Any], entity: Any, event: StrEnum, old: Any, new: Any) -> None:
    """Log a transition the store has made, and move ``entity`` along with its row."""
    log.info("%s %s: %s -[%s]-> %s", fsm.entity, entity.uuid, old, event, new)
    entity.state = new
    entity.update_count += 1
