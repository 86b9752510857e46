"""The learning exchange's use cases.

Who may do what:
- drafting: active members of the item's community (for their home
  organisation), or the operator for any organisation and community of the node;
- editing, publishing, revising, withdrawing, changing visibility, recording
  presentations: the item's contributors, the community's current co-leads and
  facilitators, the operator;
- declaring an adoption: members for their home organisation, the operator for
  any organisation of the node;
- subscribing to other nodes: the operator.
Communities, memberships and roles come from the registry mirror (the
registry's integration events), which may lag the registry by a moment.

Handlers for other nodes' events (`receive_*`) record what happened and the
inbox's tracking in one transaction, so each takes effect once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Tracking

from services.common.application import (
    KEEP,
    Changes,
    Clock,
    CopnetApplication,
    Outcome,
    check_expected_version,
    or_current,
)
from services.common.errors import FailedPrecondition, NotFound, PermissionDenied
from services.common.idempotency import Command
from services.common.identity import Caller, require_operator
from services.learning.domain import (
    Adoption,
    AdoptionReport,
    AdoptionStatus,
    Content,
    ItemKind,
    ItemStatus,
    LearningItem,
    Presentation,
    ReceivedItem,
    Subscription,
    Visibility,
)

EDITOR_ROLES = {"co_lead", "facilitator"}


class RegistryView(Protocol):
    """What the learning service needs to know of the registry (the mirror provides it)."""

    def organisation(self, organisation_id: str) -> dict[str, Any] | None: ...
    def community(self, community_id: str) -> dict[str, Any] | None: ...
    def member(self, member_id: str) -> dict[str, Any] | None: ...
    def membership_status(self, community_id: str, member_id: str) -> str | None: ...
    def roles_on(self, community_id: str, member_id: str, day: date) -> set[str]: ...


@dataclass(frozen=True)
class ContentChanges:
    title: str = KEEP
    summary: str = KEEP
    body: str = KEEP
    links: list[list[str]] = KEEP
    domain_tags: list[str] = KEEP

    def applied_to(self, content: Content) -> Content:
        return Content.of(
            or_current(self.title, content.title),
            or_current(self.summary, content.summary),
            or_current(self.body, content.body),
            or_current(self.links, [list(x) for x in content.links]),
            or_current(self.domain_tags, list(content.domain_tags)),
        )


class Learning(CopnetApplication):
    name = "Learning"

    def __init__(self, env: dict[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env, clock)
        self.node_id = self.env.get("COPNET_NODE_ID") or "dev"
        self._registry: RegistryView | None = None

    def connect(self, registry: RegistryView) -> None:
        """Gives the use cases the registry as this node knows it (its mirror)."""
        self._registry = registry

    # Items

    def create_item(
        self,
        command: Command,
        kind: ItemKind,
        content: Content,
        community_id: UUID,
        organisation_id: UUID | None,
        contributors: list[UUID],
        visibility: Visibility,
        partner_nodes: list[str],
    ) -> Outcome:
        caller = command.caller

        def decide() -> Changes:
            community = self._community(community_id)
            if caller.is_operator:
                if organisation_id is None:
                    raise FailedPrecondition("the operator must name the item's organisation_id")
                organisation = self._organisation(organisation_id)
            else:
                member = self._member(caller)
                status = self._view().membership_status(str(community_id), str(caller.member_id))
                if status is None:
                    raise PermissionDenied(
                        f"only members of '{community['slug']}' may draft its items: join it "
                        "first (if you just did, pass that `position` as min_registry_position)"
                    )
                if status != "active":
                    raise PermissionDenied(
                        f"only active members of '{community['slug']}' may draft its items"
                    )
                home = UUID(member["home_organisation_id"])
                if organisation_id not in (None, home):
                    raise PermissionDenied("members draft items for their home organisation")
                organisation = self._organisation(home)
            author = [caller.member_id] if caller.member_id else []
            people = list(dict.fromkeys([*contributors, *author]))
            item = LearningItem(
                kind=kind.value,
                community_id=community_id,
                community_name=community["name"],
                organisation_id=UUID(organisation["organisation_id"]),
                organisation_name=organisation["name"],
                origin_node=self.node_id,
                contributors=people,
                visibility=Visibility.NODE.value,
                partner_nodes=[],
                **content.as_event_fields(),
            )
            if visibility is not Visibility.NODE:
                item.change_visibility(visibility, partner_nodes)
            return Changes(item)

        return self.execute(command, decide)

    def update_draft(
        self, command: Command, item_id: UUID, expected_version: int, changes: ContentChanges
    ) -> Outcome:
        return self._edit(
            command,
            item_id,
            expected_version,
            lambda item: item.edit_draft(changes.applied_to(item.content)),
        )

    def publish_item(self, command: Command, item_id: UUID, expected_version: int) -> Outcome:
        return self._edit(
            command, item_id, expected_version, lambda item: item.publish(self.clock.now())
        )

    def revise_item(
        self,
        command: Command,
        item_id: UUID,
        expected_version: int,
        changes: ContentChanges,
        note: str,
    ) -> Outcome:
        return self._edit(
            command,
            item_id,
            expected_version,
            lambda item: item.revise(changes.applied_to(item.content), note, self.clock.now()),
        )

    def withdraw_item(
        self, command: Command, item_id: UUID, reason: str, expected_version: int
    ) -> Outcome:
        return self._edit(command, item_id, expected_version, lambda item: item.withdraw(reason))

    def change_visibility(
        self,
        command: Command,
        item_id: UUID,
        visibility: Visibility,
        partner_nodes: list[str],
        expected_version: int,
    ) -> Outcome:
        return self._edit(
            command,
            item_id,
            expected_version,
            lambda item: item.change_visibility(visibility, partner_nodes),
        )

    def record_presentation(
        self, command: Command, item_id: UUID, presentation: Presentation
    ) -> Outcome:
        return self._edit(command, item_id, 0, lambda item: item.record_presentation(presentation))

    def _edit(
        self,
        command: Command,
        item_id: UUID,
        expected_version: int,
        change: Callable[[LearningItem], None],
    ) -> Outcome:
        def decide() -> Changes:
            item = self.load(item_id, LearningItem, "learning item")
            self.require_editor(command.caller, item)
            check_expected_version(item, expected_version, "the item")
            change(item)
            return Changes(item)

        return self.execute(command, decide, serialise_on=item_id)

    def require_editor(self, caller: Caller, item: LearningItem) -> None:
        if self.may_edit(caller, item):
            return
        raise PermissionDenied(
            "only the item's contributors, its community's co-leads and facilitators, "
            "or the node operator may change it"
        )

    def may_edit(self, caller: Caller, item: LearningItem) -> bool:
        if caller.is_operator:
            return True
        if caller.member_id is None:
            return False
        if caller.member_id in item.contributors:
            return True
        roles = self._view().roles_on(
            str(item.community_id), str(caller.member_id), self.clock.today()
        )
        return bool(roles & EDITOR_ROLES)

    # Adoption

    def declare_adoption(
        self,
        command: Command,
        item_id: UUID,
        item_origin_node: str,
        organisation_id: UUID | None,
        status: AdoptionStatus,
        evidence: str,
        effective_on: date | None,
    ) -> Outcome:
        caller = command.caller

        def decide() -> Changes:
            title, local_item = self._adoptable(item_id, item_origin_node)
            if caller.is_operator:
                if organisation_id is None:
                    raise FailedPrecondition("the operator must name the organisation_id")
                organisation = self._organisation(organisation_id)
            else:
                home = UUID(self._member(caller)["home_organisation_id"])
                if organisation_id not in (None, home):
                    raise PermissionDenied(
                        "members declare adoptions for their home organisation only"
                    )
                organisation = self._organisation(home)
            org_id = UUID(organisation["organisation_id"])
            adoption = self._find(Adoption.create_id(item_id, org_id), Adoption) or Adoption(
                item_id=item_id,
                organisation_id=org_id,
                item_origin_node=item_origin_node,
                item_title=title,
                organisation_name=organisation["name"],
                node_id=self.node_id,
            )
            adoption.declare(status, evidence, effective_on or self.clock.today(), self.clock.now())
            others = []
            if local_item is not None:
                local_item.record_adoption(adoption.report())
                others.append(local_item)
            return Changes(adoption, others)

        return self.execute(command, decide, serialise_on=item_id)

    def _adoptable(self, item_id: UUID, origin_node: str) -> tuple[str, LearningItem | None]:
        """The item's title, and the item itself when it is this node's."""
        if origin_node == self.node_id:
            item = self.load(item_id, LearningItem, "learning item")
            if item.status is ItemStatus.DRAFT:
                raise FailedPrecondition("a draft cannot be adopted; publish it first")
            return item.content.title, item
        received = self._find(ReceivedItem.create_id(origin_node, str(item_id)), ReceivedItem)
        if received is None or received.retracted:
            raise NotFound(f"learning item {item_id} of node {origin_node} is not known here")
        return received.snapshot["title"], None

    # Subscriptions

    def subscribe(self, command: Command, node_id: str, domain_tags: list[str]) -> Outcome:
        def decide() -> Changes:
            require_operator(command.caller, "subscribe to other nodes")
            if node_id == self.node_id:
                raise FailedPrecondition("a node does not subscribe to itself")
            subscription = self._find(Subscription.create_id(node_id), Subscription)
            if subscription is None:
                subscription = Subscription(
                    node_id=node_id, domain_tags=domain_tags, since=self.clock.now()
                )
            else:
                subscription.change(domain_tags, self.clock.now())
            return Changes(subscription)

        return self.execute(command, decide)

    def unsubscribe(self, command: Command, node_id: str) -> Outcome:
        def decide() -> Changes:
            require_operator(command.caller, "unsubscribe from other nodes")
            subscription = self._find(Subscription.create_id(node_id), Subscription)
            if subscription is None:
                raise NotFound(f"no subscription to node {node_id}")
            subscription.end()
            return Changes(subscription)

        return self.execute(command, decide)

    # What other nodes send (each call records the inbox's tracking)

    def receive_snapshot(
        self, tracking: Tracking, origin_node: str, snapshot: dict, addressed: bool
    ) -> bool:
        received_id = ReceivedItem.create_id(origin_node, snapshot["item_id"])
        received = self._find(received_id, ReceivedItem)
        if received is None:
            received = ReceivedItem(
                origin_node=origin_node,
                item_id=snapshot["item_id"],
                snapshot=snapshot,
                addressed=addressed,
                received_at=self.clock.now(),
            )
            received.report_receipt()
        elif not received.update(snapshot, addressed):
            received = None  # an older copy (e.g. by another route): nothing to change
        return self._processed(tracking, received)

    def receive_retraction(
        self, tracking: Tracking, origin_node: str, item_id: str, version: int
    ) -> bool:
        received = self._find(ReceivedItem.create_id(origin_node, item_id), ReceivedItem)
        changed = received is not None and received.retract(version)
        return self._processed(tracking, received if changed else None)

    def receive_adoption(self, tracking: Tracking, item_id: str, report: AdoptionReport) -> bool:
        item = self._find(UUID(item_id), LearningItem)
        if item is None or item.origin_node != self.node_id:
            return self._processed(tracking, None)  # not ours: nothing to record
        item.record_adoption(report)
        return self._processed(tracking, item)

    def receive_reception(
        self, tracking: Tracking, item_id: str, node_id: str, received_at: datetime
    ) -> bool:
        item = self._find(UUID(item_id), LearningItem)
        changed = item is not None and item.record_reception(node_id, received_at)
        return self._processed(tracking, item if changed else None)

    def skip(self, tracking: Tracking) -> bool:
        """Records that an event needed nothing from this service."""
        return self._processed(tracking, None)

    def _processed(self, tracking: Tracking, aggregate: Any) -> bool:
        """False when this tracking was recorded before (the event was a repeat)."""
        return self.save_processed(tracking, *([aggregate] if aggregate else [])) is not None

    # The registry mirror

    def _view(self) -> RegistryView:
        assert self._registry is not None, "no registry mirror is connected"
        return self._registry

    def _community(self, community_id: UUID) -> dict[str, Any]:
        community = self._view().community(str(community_id))
        if community is None:
            raise NotFound(
                f"community {community_id} is not known to the learning service (it hears of "
                "communities from the registry's events); if it was created a moment ago, pass "
                "that `position` as min_registry_position"
            )
        if community["lifecycle"] == "closed":
            raise FailedPrecondition(f"community '{community['slug']}' is closed")
        return community

    def _organisation(self, organisation_id: UUID) -> dict[str, Any]:
        organisation = self._view().organisation(str(organisation_id))
        if organisation is None:
            raise NotFound(
                f"organisation {organisation_id} is not known on this node; if it was registered "
                "a moment ago, pass that `position` as min_registry_position"
            )
        if organisation["retired"]:
            raise FailedPrecondition(f"organisation {organisation_id} is retired")
        return organisation

    def _member(self, caller: Caller) -> dict[str, Any]:
        if caller.member_id is None:
            raise PermissionDenied("this call needs a member's token")
        member = self._view().member(str(caller.member_id))
        if member is None:
            raise PermissionDenied(
                f"member {caller.member_id} is not known here (yet): registered on this node?"
            )
        return member
