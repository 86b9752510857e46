"""The registry's use cases.

Each command loads aggregates, checks who may do it, calls domain methods, and
hands the changed aggregates to `execute`, which saves them in one transaction
with the request's receipt. Reads come from the event store (by id) or from the
directory view (lists).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from uuid import UUID

from services.common.application import (
    KEEP,
    Changes,
    Outcome,
    check_expected_version,
    or_current,
)
from services.common.claims import UniqueClaim
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.common.idempotency import Command
from services.common.identity import Caller, require_operator, require_self_or_operator
from services.common.shredding import PersonalFields
from services.kernel.erasure import ERASED_NAME
from services.registry.application.memberships import Memberships
from services.registry.domain import (
    Community,
    JoiningPolicy,
    Lifecycle,
    Member,
    Membership,
    Organisation,
    OrganisationKind,
    Profession,
    Role,
)

ODS_CODE = "ods-code"
COMMUNITY_SLUG = "community-slug"
MEMBER_EMAIL = "member-email"
EMAIL_TAKEN = "that e-mail address is registered"

REGISTRY_AGGREGATES = (Organisation, Community, Member, Membership)
# The node's secret for keying the unique-address claims (in the key store, never erased).
EMAIL_CLAIM_SECRET = "node:member-email-claims"

_NAME = {"display_name": ERASED_NAME}
_EMAIL = {"email": ""}


def _ods_code_taken(ods_code: str | None) -> str:
    return f"an organisation with ODS code {ods_code} exists"


class Registry(Memberships):
    name = "Registry"
    # A member's name and address, and what they or others wrote about them in their
    # memberships, are sealed with the member's key (erasure destroys it).
    personal_data = {
        Member.Registered: PersonalFields("originator_id", {**_NAME, **_EMAIL}),
        Member.DetailsChanged: PersonalFields("originator_id", _NAME),
        Member.EmailChanged: PersonalFields("originator_id", _EMAIL),
        Membership.Requested: PersonalFields("member_id", {"message": ""}),
        Membership.RequestRejected: PersonalFields("member_id", {"reason": ""}),
        Membership.Removed: PersonalFields("member_id", {"reason": ""}),
    }
    erasure_events = {Member.Erased: "originator_id"}

    def email_key(self, email: str) -> str:
        """What the unique-address claim is keyed by: an HMAC of the normalised address
        under the node's secret, so the claim never holds the address itself."""
        secret = self.subject_keys.key(EMAIL_CLAIM_SECRET, create=True)
        assert secret is not None, "the claim secret is never erased"
        return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()

    # Organisations

    def create_organisation(
        self, command: Command, name: str, kind: OrganisationKind, region: str, ods_code: str | None
    ) -> Outcome:
        def decide() -> Changes:
            require_operator(command.caller, "register organisations")
            organisation = Organisation(
                name=name, kind=kind.value, region=region, ods_code=ods_code
            )
            claims = []
            if ods_code:
                claims.append(self._claim_ods_code(ods_code, organisation.id))
            return Changes(organisation, claims)

        return self.execute(command, decide)

    def update_organisation(
        self,
        command: Command,
        organisation_id: UUID,
        expected_version: int,
        name: str = KEEP,
        kind: OrganisationKind = KEEP,
        region: str = KEEP,
        ods_code: str | None = KEEP,
    ) -> Outcome:
        def decide() -> Changes:
            require_operator(command.caller, "change organisations")
            organisation = self.load(organisation_id, Organisation, "organisation")
            check_expected_version(organisation, expected_version, "the organisation")
            claims = []
            if name is not KEEP:
                organisation.rename(name)
            if kind is not KEEP:
                organisation.change_kind(kind)
            if region is not KEEP:
                organisation.change_region(region)
            if ods_code is not KEEP and ods_code != organisation.ods_code:
                claims = self.move_claim(
                    ODS_CODE,
                    organisation.ods_code,
                    ods_code,
                    organisation.id,
                    _ods_code_taken(ods_code),
                )
                organisation.change_ods_code(ods_code)
            return Changes(organisation, claims)

        return self.execute(command, decide)

    def retire_organisation(
        self, command: Command, organisation_id: UUID, expected_version: int
    ) -> Outcome:
        def decide() -> Changes:
            require_operator(command.caller, "retire organisations")
            organisation = self.load(organisation_id, Organisation, "organisation")
            check_expected_version(organisation, expected_version, "the organisation")
            organisation.retire()
            return Changes(organisation)

        return self.execute(command, decide)

    def _claim_ods_code(self, ods_code: str, organisation_id: UUID) -> UniqueClaim:
        return self.claim(ODS_CODE, ods_code, organisation_id, _ods_code_taken(ods_code))

    def _active_organisation(self, organisation_id: UUID) -> Organisation:
        organisation = self.load(organisation_id, Organisation, "organisation")
        if organisation.retired:
            raise FailedPrecondition(f"organisation {organisation_id} is retired")
        return organisation

    # Communities

    def create_community(
        self,
        command: Command,
        slug: str,
        name: str,
        domain: str,
        purpose: str,
        region: str,
        host_organisation_ids: list[UUID],
        joining_policy: JoiningPolicy,
    ) -> Outcome:
        caller = command.caller

        def decide() -> Changes:
            founder = self._caller_member(caller) if not caller.is_operator else None
            hosts = list(host_organisation_ids)
            if not hosts and founder is not None:
                hosts = [founder.home_organisation_id]
            for host in hosts:
                self._active_organisation(host)
            community = Community(
                slug=slug,
                name=name,
                domain=domain,
                purpose=purpose,
                region=region,
                host_organisation_ids=hosts,
                joining_policy=joining_policy.value,
            )
            others: list[Any] = [
                self.claim(COMMUNITY_SLUG, slug, community.id, f"a community '{slug}' exists")
            ]
            if founder is not None:
                today = self.clock.today()
                membership = Membership(community_id=community.id, member_id=founder.id)
                membership.join(on=today, via="founder")
                membership.assign_role(Role.CO_LEAD, today)
                others.append(membership)
            return Changes(community, others)

        return self.execute(command, decide)

    def update_community(
        self,
        command: Command,
        community_id: UUID,
        expected_version: int,
        name: str = KEEP,
        domain: str = KEEP,
        purpose: str = KEEP,
        region: str = KEEP,
        joining_policy: JoiningPolicy = KEEP,
        host_organisation_ids: list[UUID] = KEEP,
    ) -> Outcome:
        def decide() -> Changes:
            community = self.load(community_id, Community, "community")
            self._require_co_lead(command.caller, community, "change the community")
            check_expected_version(community, expected_version, "the community")

            community.change_details(
                name=or_current(name, community.name),
                domain=or_current(domain, community.domain),
                purpose=or_current(purpose, community.purpose),
                region=or_current(region, community.region),
            )
            if joining_policy is not KEEP:
                community.change_joining_policy(joining_policy)
            if host_organisation_ids is not KEEP:
                for host in host_organisation_ids:
                    if host not in community.host_organisation_ids:
                        self._active_organisation(host)
                community.change_hosts(host_organisation_ids)
            return Changes(community)

        return self.execute(command, decide)

    def change_community_lifecycle(
        self,
        command: Command,
        community_id: UUID,
        lifecycle: Lifecycle,
        reason: str,
        expected_version: int,
    ) -> Outcome:
        def decide() -> Changes:
            community = self.load(community_id, Community, "community")
            self._require_co_lead(command.caller, community, "change the community's lifecycle")
            check_expected_version(community, expected_version, "the community")
            community.change_lifecycle(lifecycle, reason)
            return Changes(community)

        return self.execute(command, decide)

    def community_by_slug(self, slug: str) -> Community:
        community_id = self.holder_of(COMMUNITY_SLUG, slug)
        if community_id is None:
            raise NotFound(f"community '{slug}' not found")
        return self.load(community_id, Community, "community")

    # Members

    def register_member(
        self,
        command: Command,
        display_name: str,
        profession: Profession,
        home_organisation_id: UUID,
        email: str,
    ) -> Outcome:
        def decide() -> Changes:
            require_operator(command.caller, "register members")
            self._active_organisation(home_organisation_id)
            member = Member(
                display_name=display_name,
                profession=profession.value,
                home_organisation_id=home_organisation_id,
                email=email,
            )
            self._check_legacy_email_claim(email, member.id)
            claim = self.claim(MEMBER_EMAIL, self.email_key(email), member.id, EMAIL_TAKEN)
            return Changes(member, [claim])

        return self.execute(command, decide)

    def update_member(
        self,
        command: Command,
        member_id: UUID,
        expected_version: int,
        display_name: str = KEEP,
        profession: Profession = KEEP,
        home_organisation_id: UUID = KEEP,
        email: str = KEEP,
    ) -> Outcome:
        def decide() -> Changes:
            require_self_or_operator(command.caller, member_id, "change a member's details")
            member = self.load(member_id, Member, "member")
            member.check_not_erased()
            check_expected_version(member, expected_version, "the member")
            claims: list[Any] = []
            member.change_details(
                display_name=or_current(display_name, member.display_name),
                profession=or_current(profession, member.profession),
            )
            if (
                home_organisation_id is not KEEP
                and home_organisation_id != member.home_organisation_id
            ):
                self._active_organisation(home_organisation_id)
                member.move_to(home_organisation_id)
            if email is not KEEP and email != member.email:
                self._check_legacy_email_claim(email, member.id)
                claims = self.move_claim(
                    MEMBER_EMAIL,
                    self.email_key(member.email),
                    self.email_key(email),
                    member.id,
                    EMAIL_TAKEN,
                )
                member.change_email(email)
            return Changes(member, claims)

        return self.execute(command, decide)

    def _check_legacy_email_claim(self, email: str, member_id: UUID) -> None:
        """Stores written before claims were keyed by an HMAC hold the address itself as
        the key: such a claim still counts."""
        holder = self.holder_of(MEMBER_EMAIL, email)
        if holder is not None and holder != member_id:
            raise AlreadyExists(EMAIL_TAKEN)

    # Erasure and export

    def erase_member(self, command: Command, member_id: UUID, confirm: bool) -> Outcome:
        """Erases a member (UK GDPR art. 17) by destroying their data key, then records
        it: every personal field stored about them reads as a tombstone from then on,
        and every read model on the node drops or anonymises them on `Member.Erased`."""
        _check_may_erase(command.caller, member_id, confirm)
        member = self.load(member_id, Member, "member")
        claim_key = self.email_key(member.email) if member.email else None
        legacy_key = member.email or None
        if not member.erased:
            self.subject_keys.erase(str(member_id))

        def decide() -> Changes:
            _check_may_erase(command.caller, member_id, confirm)
            member = self.load(member_id, Member, "member")
            member.erase()
            keys = [claim_key, legacy_key] if claim_key else []
            released = [self.release(MEMBER_EMAIL, key, member.id) for key in keys if key]
            return Changes(member, [claim for claim in released if claim is not None])

        return self.execute(command, decide)

    def member_export(self, member_id: UUID) -> dict[str, Any]:
        """What the registry's store holds about a member (subject access; the servicer
        checks who asks)."""
        member = self.load(member_id, Member, "member")
        return {
            "display_name": member.display_name,
            "email": member.email,
            "profession": member.profession.value,
            "home_organisation_id": str(member.home_organisation_id),
            "erased": member.erased,
            "registered_at": member.created_on.isoformat(),
            "history": [_history_entry(e) for e in self.events.get(member.id)],
        }

    # History

    def entity_history(self, entity_id: UUID, after_version: int, limit: int) -> list[Any]:
        """Every recorded change of a registry entity (never receipts or key claims)."""
        if self._find(entity_id, REGISTRY_AGGREGATES) is None:
            raise NotFound(f"no organisation, community, member or membership {entity_id}")
        return self.history(entity_id, after_version, limit)


def _check_may_erase(caller: Caller, member_id: UUID, confirm: bool) -> None:
    require_self_or_operator(caller, member_id, "erase a member")
    if not caller.is_operator and not confirm:
        raise InvalidArgument.single("confirm", "must be true: erasing yourself cannot be undone")


def _history_entry(event: Any) -> dict[str, Any]:
    state = {
        key: (str(value) if not isinstance(value, (str, int, bool, type(None))) else value)
        for key, value in vars(event).items()
        if key not in ("originator_id", "originator_version", "timestamp", "trace_context")
    }
    return {
        "type": type(event).__qualname__,
        "version": event.originator_version,
        "at": event.timestamp.isoformat(),
        "data": state,
    }
