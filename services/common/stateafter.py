"""The aggregate as it was right after each event of a run of stored events.

The relay (for `with_state` publications) and the read models that keep whole
entities (`Projection.state_after`) need, for each stored event they handle, its
aggregate as it was right after it. Reconstructing it from the store for every
event (`repository.get(id, version=v)`: a query and every earlier event decoded
again) was the largest single cost of a receiving node's learning service in a
federation catch-up. `StatesAfter` serves one run of events read in order (a
relay batch, a projection batch) and is then dropped:

- a created event (version 1) makes the aggregate from the event alone, as
  eventsourcing's own projector does (`event.mutate(None)`), without a query;
- the next event of an aggregate held from earlier in the run is applied to it
  (`event.mutate(held)`, the projector's step, in place: the state returned for the
  earlier event is only valid until the next event of the same aggregate is asked
  for, which is how its callers use it: build a message or a row, then move on); a
  state that came from the loader is copied before it is first changed, since the
  loader may hand out a state others read too (notify's `RecentStates`);
- the same event asked for again returns the same state;
- anything else (the first event of a run for an aggregate created before it, or an
  event out of step) is read from the store as before.

An application with personal data (`CopnetApplication.personal_data`) does not reuse
states (`reuse=False`): its events are decoded with members' keys, which an erasure
deletes, and a state held from before a deletion must never stand in for one read
after it. So for the registry and the events service every state is read from the
store, exactly as before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from uuid import UUID

Loader = Callable[[Any], Any]


class StatesAfter:
    """Batch-local: make one per run of events, and let it go with the run."""

    def __init__(self, load: Loader, reuse: bool = True) -> None:
        self._load = load
        self._reuse = reuse
        self._held: dict[UUID, Any] = {}
        # Aggregates whose held state this object made (it may change them in place).
        self._own: set[UUID] = set()
        self.loaded = 0  # states read from the store (for tests and profiles)

    def __call__(self, domain_event: Any) -> Any:
        if not self._reuse:
            self.loaded += 1
            return self._load(domain_event)
        aggregate_id = domain_event.originator_id
        version = domain_event.originator_version
        held = self._held.get(aggregate_id)
        if held is not None and held.version == version:
            return held
        if held is not None and held.version == version - 1:
            if aggregate_id not in self._own:
                held = copy.deepcopy(held)  # the loader's, perhaps shared: never changed
                self._own.add(aggregate_id)
            state = domain_event.mutate(held)
        elif version == 1 and held is None and hasattr(domain_event, "originator_topic"):
            state = domain_event.mutate(None)
            self._own.add(aggregate_id)
        else:
            self.loaded += 1
            state = self._load(domain_event)
            self._own.discard(aggregate_id)
        self._held[aggregate_id] = state
        return state

    def forget(self) -> None:
        """Drops every state held (the next of each aggregate is read from the store)."""
        self._held.clear()
        self._own.clear()
