"""The learning exchange's enumerations, value parsers and the values its aggregates
are made of."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from services.kernel.parsing import parse_link, parse_name, parse_slug, parse_text


class ItemKind(StrEnum):
    QUALITY_IMPROVEMENT_PROJECT = "quality_improvement_project"
    RESOURCE = "resource"
    CASE_STUDY = "case_study"
    REPLICABLE_MODEL = "replicable_model"
    SHADOWING_OPPORTUNITY = "shadowing_opportunity"
    WEBINAR_RECORDING = "webinar_recording"
    TOOLKIT = "toolkit"


class ItemStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Visibility(StrEnum):
    NODE = "node"
    REGION = "region"
    PARTNERS = "partners"


class AdoptionStatus(StrEnum):
    EXPLORING = "exploring"
    PILOTING = "piloting"
    ADOPTED = "adopted"
    ABANDONED = "abandoned"


MAX_SUMMARY_LENGTH = 2000
MAX_BODY_LENGTH = 50_000
MAX_LINKS = 50
MAX_TAGS = 20
MAX_CONTRIBUTORS = 50  # contributor_member_ids of one item
MAX_PARTNER_NODES = 50  # partner_nodes of one item
MAX_SEARCH_TEXT = 200  # SearchCatalogue's text
_NODE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def parse_title(value: str) -> str:
    return parse_name(value)


def parse_summary(value: str) -> str:
    return parse_text(value, MAX_SUMMARY_LENGTH)


def parse_body(value: str) -> str:
    return parse_text(value, MAX_BODY_LENGTH)


def parse_url(value: str) -> str:
    """A link's address: required, the kernel's rules for links."""
    return parse_link(value, required=True)


def parse_tags(values: list[str]) -> list[str]:
    tags = []
    for value in values:
        tag = parse_slug(value)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return tags


def parse_node_id(value: str) -> str:
    node = value.strip()
    if not _NODE_ID.match(node) or len(node) > 40:
        raise ValueError("must be a node id: lower-case letters and digits joined by hyphens")
    return node


@dataclass(frozen=True)
class Content:
    """What an item says. Links are (title, url) pairs."""

    title: str
    summary: str
    body: str
    links: tuple[tuple[str, str], ...] = ()
    domain_tags: tuple[str, ...] = ()

    def as_event_fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
            "links": [list(link) for link in self.links],
            "domain_tags": list(self.domain_tags),
        }

    @classmethod
    def of(cls, title: str, summary: str, body: str, links: list, domain_tags: list) -> Content:
        return cls(title, summary, body, tuple(tuple(x) for x in links), tuple(domain_tags))


@dataclass(frozen=True)
class RevisionRecord:
    number: int
    content: Content
    note: str
    revised_at: datetime


@dataclass(frozen=True)
class AdoptionReport:
    node_id: str
    organisation_id: str
    organisation_name: str
    status: AdoptionStatus
    evidence: str
    effective_on: date
    reported_at: datetime


@dataclass(frozen=True)
class Presentation:
    convening_id: str
    title: str
    presented_on: date
