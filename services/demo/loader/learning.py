"""Loading the learning exchange: subscriptions between nodes, items (and where they were
presented), adoptions; and waiting for items and adoptions to travel."""

from __future__ import annotations

from copnet.learning.v1 import learning_pb2 as lpb
from services.demo.client import NodeClient
from services.demo.loader.base import ORGANISER_ROLES, Steps
from services.demo.scenario.model import Item, PastMeeting


class LearningSteps(Steps):
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

    def wait_for_adoptions(self, item: Item, declared: int) -> None:
        client = self.clients[item.node_id]
        item_id = self.loaded.items[item.key]

        def heard_of_all() -> bool:
            reply = client.call("learning", "GetItem", lpb.GetItemRequest(item_id=item_id))
            return len(reply.item.adoptions) >= declared

        client.wait_until(f"the adoptions of {item.title!r} reaching {item.node_id}", heard_of_all)
