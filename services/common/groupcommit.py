"""Group commit: concurrent writes of one application saved in one transaction.

Each write (a command's events and its receipt, already mapped to stored events)
joins a queue. The first writer to find no transaction in progress leads: it
takes everything queued (up to `max_group` writes), inserts it all with one
`insert_events` call (one transaction: PostgreSQL's table lock and the commit's
flush are paid once per group), gives each writer its own notification ids, and
hands the lead to the first writer still queued. A writer alone finds no
transaction in progress and leads at once, so it waits for nobody.

What a group keeps of one write each:
- A write's events are inserted together, in order, so its notification ids are
  consecutive (a command's receipt directly follows its last event).
- A conflict (IntegrityError: an aggregate version or a receipt saved already)
  fails the whole transaction; the group is then inserted again one write at a
  time, so only the writes that conflict see the IntegrityError.
- Two writes of one group that would store the same event (the same aggregate at
  the same version, the same receipt) cannot both succeed: the later one waits
  for the next group, and fails at once if the earlier one committed.
- Any other failure (the store away) is raised to every write of the group, and
  nothing of it is stored (one transaction).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent

# The most writes in one transaction (more wait for the next group).
MAX_GROUP = 64

Key = tuple[UUID | str, int]


@dataclass(frozen=True)
class Committed:
    """A write's notification ids (None if the recorder keeps no log), and how many
    writes shared its transaction."""

    notification_ids: Sequence[int] | None
    group_size: int


@dataclass(eq=False)
class _Write:
    stored: Sequence[StoredEvent]
    keys: frozenset[Key]
    # Set when the write waits behind a leader (a leader's own write never waits).
    woken: threading.Event | None = None
    done: bool = False
    committed: Committed | None = None
    error: BaseException | None = None

    def finish(self, committed: Committed | None, error: BaseException | None) -> None:
        self.committed, self.error, self.done = committed, error, True
        if self.woken is not None:
            self.woken.set()


class GroupCommitter:
    """Saves concurrent writes of one recorder in shared transactions.

    `insert` stores a list of events in one transaction and returns their
    notification ids (`ApplicationRecorder.insert_events`).
    """

    def __init__(
        self,
        insert: Callable[[Sequence[StoredEvent]], Sequence[int] | None],
        max_group: int = MAX_GROUP,
    ) -> None:
        self._insert = insert
        self._max_group = max(1, max_group)
        self._lock = threading.Lock()
        self._queue: deque[_Write] = deque()
        self._busy = False
        self._committing = 0
        # Figures: transactions committed, writes in them, the largest group.
        self.groups = 0
        self.writes = 0
        self.largest = 0

    @property
    def waiting(self) -> int:
        """Writes queued for a transaction (not counting those being committed)."""
        with self._lock:
            return len(self._queue)

    @property
    def committing(self) -> int:
        """Writes in the transaction being committed now (0 when none is)."""
        return self._committing

    def commit(self, stored: Sequence[StoredEvent]) -> Committed:
        """Stores `stored` in one transaction, alone or with other writers' events.
        Raises what storing it raised (IntegrityError if it conflicts)."""
        write = _Write(stored, frozenset((s.originator_id, s.originator_version) for s in stored))
        with self._lock:
            self._queue.append(write)
            lead = not self._busy
            self._busy = True
            if not lead:
                write.woken = threading.Event()
        if write.woken is not None:
            write.woken.wait()
        if not write.done:  # leading: first in the queue
            self._lead()
        if write.error is not None:
            raise write.error
        assert write.committed is not None
        return write.committed

    def _lead(self) -> None:
        group: list[_Write] = []
        try:
            with self._lock:
                group = self._take()
                self._committing = len(group)
            self._commit(group)
        except BaseException as error:  # nobody of the group may wait for ever
            for write in group:
                if not write.done:
                    write.finish(None, error)
            raise
        finally:
            self._hand_over(group)

    def _take(self) -> list[_Write]:
        """The next group: queued writes in order, up to the cap, none storing an event
        another of the group stores. Called with the lock held."""
        group: list[_Write] = []
        keys: set[Key] = set()
        left: deque[_Write] = deque()
        for write in self._queue:
            if len(group) < self._max_group and keys.isdisjoint(write.keys):
                group.append(write)
                keys.update(write.keys)
            else:
                left.append(write)
        self._queue = left
        return group

    def _commit(self, group: list[_Write]) -> None:
        if len(group) == 1:
            [write] = group
            try:
                ids = self._insert(write.stored)
            except Exception as error:
                write.finish(None, error)
                return
            self._count(1)
            write.finish(Committed(ids, 1), None)
            return
        events = [s for write in group for s in write.stored]
        try:
            ids = self._insert(events)
        except IntegrityError:
            self._one_by_one(group)
            return
        except Exception as error:
            for write in group:
                write.finish(None, error)
            return
        self._count(len(group))
        start = 0
        for write in group:
            end = start + len(write.stored)
            own = list(ids[start:end]) if ids else None
            write.finish(Committed(own, len(group)), None)
            start = end

    def _one_by_one(self, group: list[_Write]) -> None:
        """A group that conflicts, saved again one write per transaction."""
        for write in group:
            try:
                ids = self._insert(write.stored)
            except Exception as error:
                write.finish(None, error)
                continue
            self._count(1)
            write.finish(Committed(ids, 1), None)

    def _count(self, size: int) -> None:
        self.groups += 1
        self.writes += size
        self.largest = max(self.largest, size)

    def _hand_over(self, group: list[_Write]) -> None:
        """Fails at once the queued writes that store an event this group stored, then
        wakes the first still queued to lead the next group (or marks none running)."""
        stored: set[Key] = set()
        for write in group:
            if write.committed is not None:
                stored.update(write.keys)
        with self._lock:
            self._committing = 0
            conflicting = [w for w in self._queue if not stored.isdisjoint(w.keys)]
            for write in conflicting:
                self._queue.remove(write)
            if self._queue:
                woken = self._queue[0].woken
                assert woken is not None, "a queued write waits"
                woken.set()
            else:
                self._busy = False
        for write in conflicting:
            write.finish(None, IntegrityError("an event of this write was just stored"))
