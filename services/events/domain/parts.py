"""What a convening is made of: its details, its sign-ups, its earlier times, and the
attendance figures it closes with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.common.errors import InvalidArgument
from services.events.values import Attendance, ConveningStatus, Format, SignUpStatus, TimeSlot

ACTIVE_SIGN_UPS = (
    SignUpStatus.REGISTERED,
    SignUpStatus.WAITLISTED,
    SignUpStatus.PENDING_APPROVAL,
)
UPCOMING = (ConveningStatus.SCHEDULED, ConveningStatus.RESCHEDULED)


@dataclass(frozen=True)
class ConveningDetails:
    title: str
    topic: str
    description: str
    format: Format
    venue: str
    join_link: str

    def check(self) -> None:
        """A face-to-face meeting needs a venue, a webinar a join link, a hybrid both."""
        missing = []
        if self.format in (Format.FACE_TO_FACE, Format.HYBRID) and not self.venue:
            missing.append("venue")
        if self.format in (Format.WEBINAR, Format.HYBRID) and not self.join_link:
            missing.append("join_link")
        if missing:
            raise InvalidArgument.single(
                missing[0],
                f"is required for a {self.format.value.replace('_', '-')} convening",
            )


@dataclass(frozen=True)
class SignUp:
    """One member's sign-up to one convening (the latest, if they signed up again)."""

    member_id: UUID
    status: SignUpStatus
    # Order of signing up within the convening.
    seq: int
    signed_up_at: datetime
    updated_at: datetime
    attendance: Attendance | None = None
    # The convening's version whose event last recorded the attendance (a certificate
    # names it: any later correction voids the certificate).
    attendance_version: int = 0
    rating: int | None = None
    comment: str = ""
    note: str = ""

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_SIGN_UPS


@dataclass(frozen=True)
class Reschedule:
    """A time a convening had before it was moved, and why it moved."""

    previous: TimeSlot
    reason: str
    at: datetime


@dataclass(frozen=True)
class AttendanceFigures:
    """How many held a place, came, and did not come."""

    signed_up: int
    attended: int
    no_shows: int
