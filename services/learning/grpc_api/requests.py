"""Reading LearningService requests: links, content changes and partner nodes."""

from __future__ import annotations

from typing import Any

from services.common.application import KEEP
from services.common.errors import Violations
from services.common.servicer import optional
from services.kernel.parsing import parse_name
from services.learning.application import ContentChanges
from services.learning.domain import (
    MAX_LINKS,
    MAX_PARTNER_NODES,
    Visibility,
    parse_body,
    parse_node_id,
    parse_summary,
    parse_tags,
    parse_title,
    parse_url,
)


def item_links(field: str, links: Any, v: Violations) -> list[list[str]]:
    parsed = []
    if len(links) > MAX_LINKS:
        v.add(field, f"at most {MAX_LINKS} links")
    for index, link in enumerate(links[:MAX_LINKS]):
        title = v.check(f"{field}[{index}].title", parse_name, link.title or link.url)
        url = v.check(f"{field}[{index}].url", parse_url, link.url)
        if title and url:
            parsed.append([title, url])
    return parsed


def content_changes(request: Any, v: Violations) -> ContentChanges:
    return ContentChanges(
        title=optional(request, "title", v, parse_title),
        summary=optional(request, "summary", v, parse_summary),
        body=optional(request, "body", v, parse_body),
        links=item_links("links", request.links, v) if request.replace_links else KEEP,
        domain_tags=(
            v.check("domain_tags", parse_tags, list(request.domain_tags))
            if request.replace_domain_tags
            else KEEP
        ),
    )


def partner_nodes(request: Any, visibility: Visibility | None, v: Violations) -> list[str]:
    partners = []
    if len(request.partner_nodes) > MAX_PARTNER_NODES:
        v.add("partner_nodes", f"must name at most {MAX_PARTNER_NODES} nodes")
    for index, node in enumerate(request.partner_nodes[:MAX_PARTNER_NODES]):
        parsed = v.check(f"partner_nodes[{index}]", parse_node_id, node)
        if parsed:
            partners.append(parsed)
    if visibility is Visibility.PARTNERS and not request.partner_nodes:
        v.add("partner_nodes", "name at least one partner node for VISIBILITY_PARTNERS")
    if visibility is not Visibility.PARTNERS and request.partner_nodes:
        v.add("partner_nodes", "is only read with VISIBILITY_PARTNERS")
    return partners
