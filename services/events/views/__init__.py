"""The events service's read model: convenings, sign-ups, feedback and plans, for lists,
calendars and analytics.

`schedule.Schedule` is the projection (its writing); `queries` holds its lists,
`analytics` its figures, `records` what they answer with.
"""

from services.events.views.analytics import Adherence, Metrics
from services.events.views.records import ConveningRecord, FeedbackRecord, PlanRecord, SignUpRecord
from services.events.views.schedule import Schedule

__all__ = [
    "Adherence",
    "ConveningRecord",
    "FeedbackRecord",
    "Metrics",
    "PlanRecord",
    "Schedule",
    "SignUpRecord",
]
