"""Loads the scenario into running nodes through their public gRPC APIs.

Each step is an ordinary client call, made as the node's operator or as one of
the generated members. Request ids derive from the step, so loading again
(`copnet demo --load-only` twice) replays the first answers and adds nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from copnet.events.v1 import events_pb2 as epb
from copnet.learning.v1 import learning_pb2 as lpb
from copnet.notify.v1 import notify_pb2 as npb
from copnet.registry.v1 import registry_pb2 as rpb
from services.demo.client import DemoCallFailed, NodeClient
from services.demo.people import PeopleGenerator
from services.demo.scenario.model import Community, Item, PastMeeting, Scenario

Say = Callable[[str], None]
ORGANISER_ROLES = (rpb.ROLE_CO_LEAD, rpb.ROLE_FACILITATOR)


@dataclass(frozen=True)
class Member:
    member_id: str
    organisation: str
    profession: int
    role: rpb.Role


@dataclass
class Loaded:
    """The ids the nodes gave to what the scenario names."""

    organisations: dict[str, str] = field(default_factory=dict)
    communities: dict[str, str] = field(default_factory=dict)
    members: dict[str, list[Member]] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)
    # (historic plan key, meeting index) -> convening id
    meetings: dict[tuple[str, int], str] = field(default_factory=dict)
    upcoming: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    newsletter: str = ""

    def founder(self, community: str) -> str:
        return self.members[community][0].member_id


class Loader:
    def __init__(
        self, scenario: Scenario, clients: dict[str, NodeClient], today: date, say: Say
    ) -> None:
        self.scenario = scenario
        self.clients = clients
        self.today = today
        self.say = say
        self.loaded = Loaded()

    def load(self) -> Loaded:
        self.organisations()
        for community in self.scenario.communities:
            self.community(community)
        for community in self.scenario.communities:
            self.wait_for_organisers(community)
        self.historic_plans()
        self.cancer_events()
        self.future_plans()
        self.upcoming()
        self.subscriptions()
        self.items()
        self.adoptions()
        self.newsletter()
        self.settle()
        return self.loaded

    # The registry

    def organisations(self) -> None:
        for node in self.scenario.nodes:
            client = self.clients[node.node_id]
            for organisation in node.organisations:
                reply = client.call(
                    "registry",
                    "CreateOrganisation",
                    rpb.CreateOrganisationRequest(
                        request_id=client.request_id("organisation", organisation.key),
                        name=organisation.name,
                        kind=organisation.kind,
                        region=organisation.region,
                    ),
                )
                self.loaded.organisations[organisation.key] = reply.organisation.organisation_id
        count = sum(len(n.organisations) for n in self.scenario.nodes)
        self.say(f"  {count} organisations on {len(self.scenario.nodes)} nodes")

    def community(self, spec: Community) -> None:
        client = self.clients[spec.node_id]
        people = PeopleGenerator(spec.key)
        wanted = [
            (group, people.person(self.scenario.organisation(group.organisation)[1].domain))
            for group in spec.people
            for _ in range(group.count)
        ]

        def register(index: int) -> Member:
            group, person = wanted[index]
            reply = client.call(
                "registry",
                "RegisterMember",
                rpb.RegisterMemberRequest(
                    request_id=client.request_id("member", spec.key, index),
                    display_name=person.display_name,
                    profession=group.profession,
                    home_organisation_id=self.loaded.organisations[group.organisation],
                    email=person.email,
                ),
            )
            return Member(reply.member.member_id, group.organisation, group.profession, group.role)

        with ThreadPoolExecutor(8) as pool:
            members = list(pool.map(register, range(len(wanted))))
        self.loaded.members[spec.key] = members
        founder = members[0].member_id
        reply = client.call(
            "registry",
            "CreateCommunity",
            rpb.CreateCommunityRequest(
                request_id=client.request_id("community", spec.key),
                slug=spec.slug,
                name=spec.name,
                domain=spec.domain,
                purpose=spec.purpose,
                region=spec.region,
                host_organisation_ids=[self.loaded.organisations[h] for h in spec.hosts],
                joining_policy=spec.joining_policy,
            ),
            member=founder,
        )
        community_id = reply.community.community_id
        self.loaded.communities[spec.key] = community_id

        def join(member: Member) -> None:
            client.call(
                "registry",
                "JoinCommunity",
                rpb.JoinCommunityRequest(
                    request_id=client.request_id("join", spec.key, member.member_id),
                    community_id=community_id,
                    member_id=member.member_id,
                ),
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(join, members[1:]))
        for member in members[1:]:
            if member.role != rpb.ROLE_MEMBER:
                client.call(
                    "registry",
                    "AssignRole",
                    rpb.AssignRoleRequest(
                        request_id=client.request_id("role", spec.key, member.member_id),
                        community_id=community_id,
                        member_id=member.member_id,
                        role=member.role,
                    ),
                    member=founder,
                )
        self.say(f"  {spec.name} on {spec.node_id}: {len(members)} members")

    def wait_for_organisers(self, spec: Community) -> None:
        """The events service learns communities from the registry's events, in order: once it
        knows every organiser, it knows every membership before them too."""
        client = self.clients[spec.node_id]
        community_id = self.loaded.communities[spec.key]
        wanted = {m.member_id for m in self.loaded.members[spec.key] if m.role in ORGANISER_ROLES}
        wanted.add(self.loaded.founder(spec.key))

        def knows_them() -> bool:
            reply = client.find(
                "events", "GetCommunity", epb.GetCommunityRequest(community_id=community_id)
            )
            return reply is not None and wanted <= set(reply.community.organiser_ids)

        client.wait_until(f"the events service learning {spec.name}'s organisers", knows_them)

    # The events service

    def _import(
        self, spec: Community, key: tuple[Any, ...], meeting: PastMeeting, plan_id: str = ""
    ) -> str:
        client = self.clients[spec.node_id]
        request = epb.ImportConveningRequest(
            request_id=client.request_id("import", *key),
            community_id=self.loaded.communities[spec.key],
            title=f"{spec.name}: {meeting.topic}"[:200],
            topic=meeting.topic,
            format=meeting.format,
            start=meeting.start,
            end=meeting.end,
            plan_id=plan_id,
        )
        if meeting.held:
            request.held.CopyFrom(
                epb.PastConvening(
                    signed_up=meeting.signed_up,
                    attended=meeting.attended,
                    outcomes=[
                        epb.LearningOutcome(kind=kind, text=text) for kind, text in meeting.outcomes
                    ],
                )
            )
        reply = client.call(
            "events", "ImportConvening", request, member=self.loaded.founder(spec.key)
        )
        return reply.convening.convening_id

    def historic_plans(self) -> None:
        for plan in self.scenario.historic_plans:
            spec = self.scenario.community(plan.community)
            plan_id = self._create_plan(
                spec, plan.key, title=plan.title, description=plan.description, venue=plan.venue
            ).plan.plan_id
            for index, meeting in enumerate(plan.meetings):
                self.loaded.meetings[(plan.key, index)] = self._import(
                    spec, (plan.key, index), meeting, plan_id
                )
            held = sum(1 for m in plan.meetings if m.held)
            self.say(
                f"  {spec.name}: plan of {len(plan.meetings)} meetings "
                f"({plan.meetings[0].start[:7]} to {plan.meetings[-1].start[:7]}), {held} held"
            )

    def cancer_events(self) -> None:
        spec = self.scenario.community(self.scenario.cancer_community)
        for index, meeting in enumerate(self.scenario.cancer_events):
            self._import(spec, ("cancer-2023", index), meeting)
        signed = sum(m.signed_up for m in self.scenario.cancer_events)
        came = sum(m.attended for m in self.scenario.cancer_events)
        self.say(
            f"  {spec.name}: {len(self.scenario.cancer_events)} events of 2023 "
            f"({signed} signed up, {came} attended)"
        )

    def _create_plan(self, spec: Community, key: str, **fields: Any) -> Any:
        """A face-to-face plan of two-hour meetings, made by the community's founder."""
        client = self.clients[spec.node_id]
        reply = client.call(
            "events",
            "CreateMeetingPlan",
            epb.CreateMeetingPlanRequest(
                request_id=client.request_id("plan", key),
                community_id=self.loaded.communities[spec.key],
                format=epb.CONVENING_FORMAT_FACE_TO_FACE,
                duration_minutes=120,
                **fields,
            ),
            member=self.loaded.founder(spec.key),
        )
        self.loaded.plans[key] = reply.plan.plan_id
        return reply

    def future_plans(self) -> None:
        for plan in self.scenario.future_plans:
            spec = self.scenario.community(plan.community)
            reply = self._create_plan(
                spec,
                plan.key,
                title=plan.title,
                venue=plan.venue,
                recurrence=epb.Recurrence(
                    rule=plan.rule, first_start=f"{self.today.year + 1}-{plan.first_start}"
                ),
            )
            self.say(f"  {spec.name}: {len(reply.convening_ids)} meetings planned next year")

    def upcoming(self) -> None:
        for upcoming in self.scenario.upcoming:
            spec = self.scenario.community(upcoming.community)
            client = self.clients[spec.node_id]
            day = (self.today + timedelta(days=upcoming.days_ahead)).isoformat()
            reply = client.call(
                "events",
                "ScheduleConvening",
                epb.ScheduleConveningRequest(
                    request_id=client.request_id("schedule", upcoming.key),
                    community_id=self.loaded.communities[spec.key],
                    title=upcoming.title,
                    topic=upcoming.topic,
                    format=upcoming.format,
                    venue=upcoming.venue,
                    join_link=upcoming.join_link,
                    start=f"{day}T{upcoming.start_time}",
                    end=f"{day}T{upcoming.end_time}",
                    capacity=upcoming.capacity,
                ),
                member=self.loaded.founder(spec.key),
            )
            convening_id = reply.convening.convening_id
            self.loaded.upcoming[upcoming.key] = convening_id
            # In order, one at a time: who gets a place and who waits is then the same each run.
            for member in self.loaded.members[spec.key][1 : upcoming.sign_ups + 1]:
                client.call(
                    "events",
                    "SignUp",
                    epb.SignUpRequest(
                        request_id=client.request_id("sign-up", upcoming.key, member.member_id),
                        convening_id=convening_id,
                    ),
                    member=member.member_id,
                )
            self.say(
                f"  {spec.name}: '{upcoming.title}' on {day}, {upcoming.sign_ups} sign-ups "
                f"for {upcoming.capacity} places"
            )

    # The learning exchange

    def subscriptions(self) -> None:
        for node in self.scenario.nodes:
            client = self.clients[node.node_id]
            for other in self.scenario.nodes:
                if other.node_id != node.node_id:
                    client.call(
                        "learning",
                        "Subscribe",
                        lpb.SubscribeRequest(
                            request_id=client.request_id("subscribe", other.node_id),
                            node_id=other.node_id,
                        ),
                    )
        n = len(self.scenario.nodes)
        self.say(f"  every node subscribed to every other node's learning ({n * (n - 1)} links)")

    def _author(self, item: Item) -> str:
        """A member of the item's community from its organisation, organisers first."""
        members = self.loaded.members[item.community]
        ours = [m for m in members if m.organisation == item.organisation]
        if not ours:
            raise ValueError(f"no member of {item.community} works for {item.organisation}")
        return sorted(ours, key=lambda m: m.role not in ORGANISER_ROLES)[0].member_id

    def items(self) -> None:
        for item in self.scenario.items:
            client = self.clients[item.node_id]
            author = self._author(item)
            created = client.call(
                "learning",
                "CreateItem",
                lpb.CreateItemRequest(
                    request_id=client.request_id("item", item.key),
                    kind=item.kind,
                    title=item.title,
                    summary=item.summary,
                    body=item.body,
                    links=[lpb.Link(title=t, url=u) for t, u in item.links],
                    domain_tags=list(item.tags),
                    community_id=self.loaded.communities[item.community],
                    visibility=item.visibility,
                    partner_nodes=list(item.partner_nodes),
                ),
                member=author,
            ).item
            self.loaded.items[item.key] = created.item_id
            if item.presented_at is not None:
                plan_key, index = item.presented_at
                meeting = self._historic_meeting(plan_key, index)
                client.call(
                    "learning",
                    "RecordPresentation",
                    lpb.RecordPresentationRequest(
                        request_id=client.request_id("presented", item.key),
                        item_id=created.item_id,
                        convening_id=self.loaded.meetings[(plan_key, index)],
                        title=meeting.topic,
                        presented_on=meeting.start[:10],
                    ),
                    member=author,
                )
            client.call(
                "learning",
                "PublishItem",
                lpb.PublishItemRequest(
                    request_id=client.request_id("publish", item.key), item_id=created.item_id
                ),
                member=author,
            )
        self.say(f"  {len(self.scenario.items)} learning items published")

    def _historic_meeting(self, plan_key: str, index: int) -> PastMeeting:
        plan = next(p for p in self.scenario.historic_plans if p.key == plan_key)
        return plan.meetings[index]

    def adoptions(self) -> None:
        for adoption in self.scenario.adoptions:
            item = next(i for i in self.scenario.items if i.key == adoption.item)
            item_id = self.loaded.items[item.key]
            client = self.clients[adoption.node_id]
            if adoption.node_id != item.node_id:
                self.wait_for_item(client, item.node_id, item_id)
            client.call(
                "learning",
                "DeclareAdoption",
                lpb.DeclareAdoptionRequest(
                    request_id=client.request_id("adoption", item.key, adoption.organisation),
                    item_id=item_id,
                    organisation_id=self.loaded.organisations[adoption.organisation],
                    status=adoption.status,
                    evidence=adoption.evidence,
                    effective_on=adoption.effective_on,
                ),
            )
        self.say(f"  {len(self.scenario.adoptions)} adoptions declared on their own nodes")

    @staticmethod
    def wait_for_item(client: NodeClient, origin_node: str, item_id: str) -> None:
        def arrived() -> bool:
            reply = client.call(
                "learning",
                "SearchCatalogue",
                lpb.SearchCatalogueRequest(origin_node=origin_node, page_size=100),
            )
            return any(i.item_id == item_id for i in reply.items)

        client.wait_until(f"item {item_id} of {origin_node} arriving", arrived)

    # Waiting for federation

    def receivers(self, item: Item) -> list[str]:
        """The nodes an item may reach (all of them subscribe to all the others)."""
        if item.visibility == lpb.VISIBILITY_REGION:
            return [n.node_id for n in self.scenario.nodes if n.node_id != item.node_id]
        if item.visibility == lpb.VISIBILITY_PARTNERS:
            return list(item.partner_nodes)
        return []

    # Notify

    def newsletter(self) -> None:
        """The cancer CoP's co-lead writes a newsletter and sends it to the mailing list."""
        letter = self.scenario.newsletter
        if not letter:
            return
        spec = self.scenario.community(letter["community"])
        client = self.clients[spec.node_id]
        author = self.loaded.founder(spec.key)

        def composed() -> Any | None:
            try:
                return client.call(
                    "notify",
                    "ComposeNewsletter",
                    npb.ComposeNewsletterRequest(
                        request_id=client.request_id("newsletter", spec.key),
                        community_id=self.loaded.communities[spec.key],
                        subject=letter["subject"],
                        body=letter["body"],
                    ),
                    member=author,
                )
            except DemoCallFailed as failure:
                if "PERMISSION_DENIED" in str(failure):
                    return None  # the notify service has not heard of the co-lead's role yet
                raise

        draft = client.wait_until("the notify service knowing the co-lead", composed).newsletter
        sent = client.call(
            "notify",
            "SendNewsletter",
            npb.SendNewsletterRequest(
                request_id=client.request_id("send-newsletter", spec.key),
                newsletter_id=draft.newsletter_id,
            ),
            member=author,
        ).newsletter
        self.loaded.newsletter = sent.newsletter_id
        self.say(f"  {spec.name}: newsletter '{sent.subject}' sent to {sent.recipients} members")

    def wait_for_mail(self) -> None:
        """Waits until the dispatchers have sent every e-mail that is due now (reminders and
        digests wait for their time)."""
        for node in self.scenario.nodes:
            client = self.clients[node.node_id]
            if client.has("notify"):
                client.wait_until(
                    f"{node.node_id}'s e-mails due now being sent",
                    functools.partial(nothing_due, client),
                )

    def settle(self) -> None:
        """Waits until every item has reached the nodes it may reach, every adoption has
        travelled back to its item's origin, and the e-mails due have gone out."""
        for item in self.scenario.items:
            for node_id in self.receivers(item):
                self.wait_for_item(self.clients[node_id], item.node_id, self.loaded.items[item.key])
        for item in self.scenario.items:
            declared = sum(1 for a in self.scenario.adoptions if a.item == item.key)
            if declared:
                self.wait_for_adoptions(item, declared)
        self.wait_for_mail()
        self.say(
            "  every item reached its subscribers, every adoption its origin; "
            "the e-mails due went out"
        )

    def wait_for_adoptions(self, item: Item, declared: int) -> None:
        client = self.clients[item.node_id]
        item_id = self.loaded.items[item.key]

        def heard_of_all() -> bool:
            reply = client.call("learning", "GetItem", lpb.GetItemRequest(item_id=item_id))
            return len(reply.item.adoptions) >= declared

        client.wait_until(f"the adoptions of {item.title!r} reaching {item.node_id}", heard_of_all)


def nothing_due(client: NodeClient) -> bool:
    """No e-mail but digests is waiting on the node's notify service past its due time."""
    now = datetime.now(UTC)
    for status in (npb.DELIVERY_STATUS_SENDING, npb.DELIVERY_STATUS_PENDING):
        request = npb.ListNotificationsRequest(
            page_size=100, status=status, min_position=client.positions.get("notify", 0)
        )
        while True:
            reply = client.call("notify", "ListNotifications", request)
            if any(
                n.kind != npb.NOTIFICATION_KIND_DIGEST and n.due_at.ToDatetime(tzinfo=UTC) <= now
                for n in reply.notifications
            ):
                return False
            if not reply.next_page_token:
                break
            request.page_token = reply.next_page_token
    return True
