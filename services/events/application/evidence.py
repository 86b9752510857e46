"""What a member keeps: calendar feeds (secret URLs their calendar application follows)
and CPD evidence (a convening's CPD credit, certificates and their verification).

Feed URLs and certificate links are signed with keys derived from the node's signing
key (`services.events.cpd.keys`), handed over by `connect`. A feed or certificate
whose member the community directory no longer knows (an erased member) no longer
opens or verifies (`member_present`), and neither does one the service recorded as
erased (`MemberErasure`, from the registry's `member_erased`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from services.common.application import Changes, Outcome, check_expected_version
from services.common.errors import FailedPrecondition, NotFound, PermissionDenied
from services.common.idempotency import Command
from services.common.identity import Caller, require_self_or_operator
from services.contracts.erasure import MemberErasure
from services.events.application.base import EventsBase, policy_words
from services.events.commands import CommunityDirectory
from services.events.cpd.keys import CertificateClaim, EvidenceKeys, FeedSecrets
from services.events.domain import CalendarFeed, Convening, FeedKind, SignUp
from services.events.values import Attendance, Community, JoiningPolicy

MAX_CPD_HOURS = 100
MAX_CPD_MINUTES = MAX_CPD_HOURS * 60


@dataclass(frozen=True)
class Attended:
    """A member's attendance at a convening that counts for CPD, and its certificate."""

    convening: Convening
    sign_up: SignUp
    claim: CertificateClaim
    token: str


@dataclass(frozen=True)
class Verdict:
    """What the node says of a certificate reference."""

    genuine: bool
    reason: str
    attended: Attended | None = None


def is_public(community: Community) -> bool:
    """A community open to all has a calendar anyone may subscribe to."""
    return community.joining_policy is JoiningPolicy.OPEN


class Evidence(EventsBase):
    """Calendar feeds and CPD evidence (`Events` is the application)."""

    _keys: EvidenceKeys | None = None

    def connect(self, directory: CommunityDirectory, keys: EvidenceKeys | None = None) -> None:
        """The community directory, and the keys of feed URLs and certificates."""
        super().connect(directory)
        self._keys = keys

    @property
    def keys(self) -> EvidenceKeys:
        if self._keys is None:
            raise RuntimeError("the events application needs its evidence keys (connect)")
        return self._keys

    @property
    def feed_secrets(self) -> FeedSecrets:
        return self.keys.feeds

    def member_present(self, member_id: UUID) -> bool:
        """Known to the directory and not erased: an erased member's feeds answer 404 and
        their certificates no longer verify (checked on every request, no read-model lag)."""
        return self.directory.is_known_member(member_id) and not self.member_erased(member_id)

    def member_erased(self, member_id: UUID) -> bool:
        """Whether this service recorded the member's erasure (`MemberErasure`, saved by
        its erasures inbox when the registry erases them): read from the event store, so
        no read model lags behind it."""
        return self._find(MemberErasure.create_id(member_id), MemberErasure) is not None

    # Calendar feeds

    def issue_calendar_feed(
        self, command: Command, member_id: UUID, kind: FeedKind, community_id: UUID | None
    ) -> Outcome:
        def decide() -> Changes:
            require_self_or_operator(command.caller, member_id, "issue their calendar feeds")
            if not self.member_present(member_id):
                raise NotFound(
                    f"member {member_id} is not known to the events service (registry changes "
                    f"applied up to position {self.directory.registry_position()}); if they "
                    "were registered a moment ago, pass that `position` as min_registry_position"
                )
            if kind is FeedKind.COMMUNITY:
                assert community_id is not None
                self._check_community_feed(self.community(community_id), member_id)
            nonce = uuid.uuid4().hex
            feed_id = CalendarFeed.create_id(member_id, nonce)
            return Changes(
                CalendarFeed(
                    member_id=member_id,
                    nonce=nonce,
                    kind=kind.value,
                    community_id=community_id,
                    secret_hash=self.feed_secrets.hash(feed_id, 1),
                )
            )

        return self.execute(command, decide)

    def _check_community_feed(self, community: Community, member_id: UUID) -> None:
        if not is_public(community) and not self.directory.is_active_member(
            community.community_id, member_id
        ):
            raise PermissionDenied(
                f"community '{community.slug}' is {policy_words(community)}: only its active "
                "members may subscribe to its calendar"
            )

    def rotate_calendar_feed(
        self, command: Command, feed_id: UUID, expected_version: int
    ) -> Outcome:
        def decide() -> Changes:
            feed = self._own_feed(command.caller, feed_id)
            check_expected_version(feed, expected_version, "the feed")
            feed.rotate(self.feed_secrets.hash(feed.id, feed.generation + 1))
            return Changes(feed)

        return self.execute(command, decide, serialise_on=feed_id)

    def revoke_calendar_feed(self, command: Command, feed_id: UUID, reason: str) -> Outcome:
        def decide() -> Changes:
            feed = self._own_feed(command.caller, feed_id)
            feed.revoke(reason)
            return Changes(feed)

        return self.execute(command, decide, serialise_on=feed_id)

    def calendar_feed(self, caller: Caller, feed_id: UUID) -> CalendarFeed:
        return self._own_feed(caller, feed_id)

    def feed_url_secret(self, feed: CalendarFeed) -> str:
        return self.feed_secrets.secret(feed.id, feed.generation)

    def open_feed(self, feed_id: UUID, secret: str) -> CalendarFeed | None:
        """The feed a URL opens, or None (unknown, wrong or old secret, revoked, its member
        erased, or no longer a member of a community that is not public)."""
        feed = self._find(feed_id, CalendarFeed)
        if feed is None or feed.revoked or not FeedSecrets.matches(secret, feed.secret_hash):
            return None
        if not self.member_present(feed.member_id):
            return None
        if feed.kind is FeedKind.COMMUNITY:
            assert feed.community_id is not None
            community = self.directory.community(feed.community_id)
            if community is None:
                return None
            if not is_public(community) and not self.directory.is_active_member(
                community.community_id, feed.member_id
            ):
                return None
        return feed

    def _own_feed(self, caller: Caller, feed_id: UUID) -> CalendarFeed:
        feed = self._find(feed_id, CalendarFeed)
        if feed is None or not (caller.is_operator or caller.is_member(feed.member_id)):
            # Another member's feed is not found, rather than forbidden: ids stay private.
            raise NotFound(f"calendar feed {feed_id} not found")
        return feed

    # CPD

    def set_cpd_credit(
        self,
        command: Command,
        convening_id: UUID,
        counts_for_cpd: bool,
        cpd_minutes: int | None,
        expected_version: int,
    ) -> Outcome:
        return self._organiser_command(
            command,
            convening_id,
            "set a convening's CPD credit",
            lambda c: c.set_cpd_credit(counts_for_cpd, cpd_minutes),
            expected_version,
        )

    def attended(self, caller: Caller, convening_id: UUID, member_id: UUID) -> Attended:
        """The member's certificate of attendance at a convening that counts for CPD."""
        require_self_or_operator(caller, member_id, "get their CPD certificates")
        convening = self.load(convening_id, Convening, "convening")
        attended = self.attendance_of(convening, member_id)
        if attended is None:
            raise FailedPrecondition(
                f"member {member_id} is not recorded as attending convening {convening_id}"
            )
        if not convening.counts_for_cpd:
            raise FailedPrecondition("the organisers say this convening does not count for CPD")
        return attended

    def attendance_of(self, convening: Convening, member_id: UUID) -> Attended | None:
        sign_up = convening.signups.get(member_id)
        if sign_up is None or sign_up.attendance is not Attendance.ATTENDED:
            return None
        claim = CertificateClaim(
            convening.id, member_id, sign_up.attendance_version, round(convening.cpd_hours * 60)
        )
        return Attended(convening, sign_up, claim, self.keys.certificates.issue(claim))

    def verify_certificate(self, token: str) -> Verdict:
        """Whether a certificate reference is one this node issued and still stands by."""
        try:
            claim = self.keys.certificates.read(token)
        except ValueError as error:
            return Verdict(False, f"This reference {error}.")
        convening = self._find(claim.convening_id, Convening)
        if convening is None or not self.member_present(claim.member_id):
            return Verdict(False, "The node no longer holds the records this certificate names.")
        attended = self.attendance_of(convening, claim.member_id)
        if attended is None or attended.claim.recorded_in != claim.recorded_in:
            return Verdict(
                False, "The attendance this certificate rests on was corrected after it was issued."
            )
        if not convening.counts_for_cpd:
            return Verdict(False, "The organisers say this convening does not count for CPD.")
        if attended.claim.minutes != claim.minutes:
            return Verdict(
                False, "The convening's CPD hours changed after this certificate was issued."
            )
        return Verdict(True, "This certificate is genuine.", attended)
