"""What notify does when learning is published, revised or withdrawn (here, or on a node
this one subscribes to): each new published revision is announced once to the members
it interests.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Tracking

from services.contracts.learning_items import contributor_pseudonym
from services.notify.domain import (
    Frequency,
    Kind,
    LearningNotice,
    LearningSummary,
    Notification,
    PreferenceSettings,
    Topic,
    notification_id,
)
from services.notify.reactions.decisions import Batch, NotifyDecisions


class LearningReactions(NotifyDecisions):
    def learning_seen(
        self, tracking: Tracking, summary: LearningSummary, contributors: list[str], at: datetime
    ) -> bool:
        """A learning item was published, revised or withdrawn here, or arrived from
        another node: announce each new published revision once to those it interests."""

        def decision(batch: Batch) -> None:
            notice_id = LearningNotice.create_id(summary.item_id)
            notice = batch.find(notice_id, LearningNotice)
            if notice is None:
                notice = LearningNotice(
                    origin_node=summary.origin_node,
                    item_id=summary.item_id,
                    summary=summary.as_dict(),
                )
                batch.add(notice)
            else:
                notice.see(summary)
            if not notice.should_announce():
                return
            revised = notice.announced_revision > 0
            notice.announce()
            if not self.is_fresh(at):
                return
            self._announce(batch, summary, revised, set(contributors))

        return self.decide(tracking, decision)

    def learning_withdrawn(self, tracking: Tracking, item_id: str) -> bool:
        def decision(batch: Batch) -> None:
            notice = batch.find(LearningNotice.create_id(item_id), LearningNotice)
            if notice is not None:
                notice.withdraw()

        return self.decide(tracking, decision)

    def interested_in(self, summary: LearningSummary) -> dict[UUID, PreferenceSettings]:
        """Members whose preferences match an item, with those preferences."""
        view = self._preferences_view()
        candidates = view.following(summary.domain_tags, summary.community_id)
        try:
            community = UUID(summary.community_id)
        except ValueError:
            community = None
        community_members: set[UUID] = set()
        if summary.origin_node == self.node_id and community is not None:
            community_members = set(self._directory().registry.active_members(community))
        settings = view.settings_for(candidates | community_members)
        tags = set(summary.domain_tags)
        return {
            member: preferences
            for member, preferences in settings.items()
            if preferences.learning is not Frequency.NEVER
            and (
                tags & set(preferences.learning_domains)
                or summary.community_id in preferences.learning_communities
                or (member in community_members and preferences.learning_from_my_communities)
            )
        }

    def _announce(
        self, batch: Batch, summary: LearningSummary, revised: bool, contributors: set[str]
    ) -> None:
        now = self.clock.now()
        key = f"learning:{summary.origin_node}:{summary.item_id}:{summary.revision}"
        verb = "Revised" if revised else "New"
        subject = f"{verb} learning: {summary.title}"
        for member, preferences in sorted(self.interested_in(summary).items()):
            if str(member) in contributors or (
                contributor_pseudonym(summary.item_id, member) in contributors
            ):
                continue  # they wrote it
            if preferences.learning.is_digest:
                self._add_to_digest(
                    batch,
                    member,
                    preferences.learning,
                    now,
                    {
                        "topic": Topic.LEARNING.value,
                        "kind": "learning",
                        "ref": f"{summary.origin_node}:{summary.item_id}",
                        "title": summary.title,
                        "community_id": summary.community_id,
                        "community_name": summary.community_name,
                        "origin_node": summary.origin_node,
                        "local": summary.origin_node == self.node_id,
                        "summary": summary.summary,
                        "item_kind": summary.kind,
                        "organisation_name": summary.organisation_name,
                        "revision": summary.revision,
                        "revised": revised,
                        "domain_tags": list(summary.domain_tags),
                    },
                )
            elif batch.find(notification_id(key, member), Notification) is None:
                batch.add(
                    Notification.create(
                        key,
                        member,
                        Kind.LEARNING,
                        Topic.LEARNING,
                        now,
                        subject,
                        refs={"item_id": summary.item_id, "origin_node": summary.origin_node},
                        context={"summary": summary.as_dict(), "revised": revised},
                    )
                )
