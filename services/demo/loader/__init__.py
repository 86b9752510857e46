"""Loads the scenario into running nodes through their public gRPC APIs.

Each step is an ordinary client call, made as the node's operator or as one of
the generated members. Request ids derive from the step, so loading again
(`copnet demo --load-only` twice) replays the first answers and adds nothing.

The steps are by service: `registry`, `events` (and `cpd`: what a member keeps),
`learning` (`base` holds what they share); `Loader` runs them in order, sends the
newsletter and waits for the region to settle.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from copnet.notify.v1 import notify_pb2 as npb
from services.demo.client import DemoCallFailed, NodeClient
from services.demo.loader.base import Loaded
from services.demo.loader.cpd import CpdSteps
from services.demo.loader.events import EventsSteps
from services.demo.loader.learning import LearningSteps
from services.demo.loader.registry import RegistrySteps


class Loader(RegistrySteps, EventsSteps, CpdSteps, LearningSteps):
    """Loads the scenario, step by step (each step is its service's `...Steps`)."""

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
        self.cpd()
        self.subscriptions()
        self.items()
        self.adoptions()
        self.newsletter()
        self.settle()
        return self.loaded

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
