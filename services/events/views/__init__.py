"""The events service's read model: convenings, sign-ups, feedback and plans, for lists,
calendars and analytics.

`schedule.Schedule` is the projection (its writing); `queries` holds its lists,
`analytics` its figures, `records` what they answer with; `evidence` holds the
read model of calendar feeds, and the lists of one member's convenings.
"""

from services.events.views.analytics import Adherence, Metrics
from services.events.views.evidence import Evidence, FeedRecord
from services.events.views.records import ConveningRecord, FeedbackRecord, PlanRecord, SignUpRecord
from services.events.views.schedule import Schedule

__all__ = [
    "Adherence",
    "ConveningRecord",
    "Evidence",
    "FeedRecord",
    "FeedbackRecord",
    "Metrics",
    "PlanRecord",
    "Schedule",
    "SignUpRecord",
]
