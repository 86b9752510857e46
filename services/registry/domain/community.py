"""A community of practice: its details, hosts, joining policy and lifecycle."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from services.common.aggregate import TracedAggregate
from services.common.errors import FailedPrecondition
from services.registry.domain.values import JoiningPolicy, Lifecycle

_POLICY_WORDS = {
    JoiningPolicy.OPEN: "open to all",
    JoiningPolicy.APPROVAL: "joined by a co-lead's approval",
    JoiningPolicy.INVITE_ONLY: "invite-only",
}

LIFECYCLE_TRANSITIONS: dict[Lifecycle, set[Lifecycle]] = {
    Lifecycle.FORMING: {Lifecycle.ACTIVE, Lifecycle.CLOSED},
    Lifecycle.ACTIVE: {Lifecycle.DORMANT, Lifecycle.CLOSED},
    Lifecycle.DORMANT: {Lifecycle.ACTIVE, Lifecycle.CLOSED},
    Lifecycle.CLOSED: set(),
}


class Community(TracedAggregate):
    @event("Created")
    def __init__(
        self,
        slug: str,
        name: str,
        domain: str,
        purpose: str,
        region: str,
        host_organisation_ids: list[UUID],
        joining_policy: str,
    ):
        self.slug = slug
        self.name = name
        self.domain = domain
        self.purpose = purpose
        self.region = region
        self.host_organisation_ids = list(host_organisation_ids)
        self.joining_policy = JoiningPolicy(joining_policy)
        self.lifecycle = Lifecycle.FORMING

    @property
    def is_closed(self) -> bool:
        return self.lifecycle is Lifecycle.CLOSED

    def check_open(self) -> None:
        if self.is_closed:
            raise FailedPrecondition(f"community '{self.slug}' is closed")

    def check_policy(self, expected: JoiningPolicy, hint: str) -> None:
        if self.joining_policy is not expected:
            raise FailedPrecondition(
                f"community '{self.slug}' is {_POLICY_WORDS[self.joining_policy]}: {hint}"
            )

    def change_details(self, name: str, domain: str, purpose: str, region: str) -> None:
        self.check_open()
        new = (name, domain, purpose, region)
        if new != (self.name, self.domain, self.purpose, self.region):
            self._details_changed(*new)

    def change_hosts(self, host_organisation_ids: list[UUID]) -> None:
        self.check_open()
        if list(host_organisation_ids) != self.host_organisation_ids:
            self._hosts_changed(list(host_organisation_ids))

    def change_joining_policy(self, policy: JoiningPolicy) -> None:
        self.check_open()
        if policy != self.joining_policy:
            self._joining_policy_changed(policy.value)

    def change_lifecycle(self, target: Lifecycle, reason: str) -> None:
        if target is self.lifecycle:
            raise FailedPrecondition(f"community '{self.slug}' is already {target.value}")
        if target not in LIFECYCLE_TRANSITIONS[self.lifecycle]:
            raise FailedPrecondition(
                f"community '{self.slug}' cannot go from {self.lifecycle.value} to {target.value}"
            )
        self._lifecycle_changed(target.value, reason)

    @event("DetailsChanged")
    def _details_changed(self, name: str, domain: str, purpose: str, region: str) -> None:
        self.name, self.domain, self.purpose, self.region = name, domain, purpose, region

    @event("HostsChanged")
    def _hosts_changed(self, host_organisation_ids: list[UUID]) -> None:
        self.host_organisation_ids = list(host_organisation_ids)

    @event("JoiningPolicyChanged")
    def _joining_policy_changed(self, joining_policy: str) -> None:
        self.joining_policy = JoiningPolicy(joining_policy)

    @event("LifecycleChanged")
    def _lifecycle_changed(self, lifecycle: str, reason: str) -> None:
        self.lifecycle = Lifecycle(lifecycle)
