"""The events service's domain: convenings (with their sign-ups) and meeting plans.

A `Convening` is one meeting of a community. Its sign-ups live inside it: one
consistency boundary for capacity and waitlist order, so a place is never
given twice and the waitlist is promoted strictly in order.

Public methods check the rules and raise; the `@event` methods they call only
record what happened, so replaying history never re-checks today's rules.
Times come in as arguments (`now`): the domain never reads a clock.

`convening.Convening`, `plan.MeetingPlan` and `feed.CalendarFeed` (a member's
calendar subscription) are the aggregates; `parts` holds the values a convening is
made of. Events stored before this package existed name
`services.events.domain:<class>`: `services.events.topics` keeps them resolving.
"""

from services.events import topics  # noqa: F401  (old topics of these classes)
from services.events.domain.convening import Convening
from services.events.domain.feed import CalendarFeed, FeedKind
from services.events.domain.parts import (
    ACTIVE_SIGN_UPS,
    UPCOMING,
    AttendanceFigures,
    ConveningDetails,
    Reschedule,
    SignUp,
)
from services.events.domain.plan import MeetingPlan, PlannedOccurrence

__all__ = [
    "ACTIVE_SIGN_UPS",
    "UPCOMING",
    "AttendanceFigures",
    "CalendarFeed",
    "Convening",
    "ConveningDetails",
    "FeedKind",
    "MeetingPlan",
    "PlannedOccurrence",
    "Reschedule",
    "SignUp",
]
