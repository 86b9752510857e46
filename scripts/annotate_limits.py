"""One-off helper (kept for re-use when fields are added): states each request field's limit
in a `// Limit: ...` comment above it in the service protos. README's "Limits" table lists
the same limits with the constants that enforce them (tests/unit/test_limits_documented.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

NAME = "Limit: at most 200 characters, one line."
TEXT = "Limit: at most 4000 characters."
SLUG = "Limit: lower-case letters and digits joined by single hyphens, at most 64 characters."
LINK = "Limit: an http(s) URL of at most 2000 characters."
UUID_ = "Limit: a UUID, unique per intended change and reused on retry (else INVALID_ARGUMENT)."
PAGE = "Limit: 1 to 500; 0 means 50."
DATE = "Limit: an ISO 8601 date between the years 1900 and 2200."
LOCAL = "Limit: a local date and time between the years 1900 and 2200."
TIMESTAMP = "Limit: between the years 1900 and 2200 (UTC)."
SUMMARY = "Limit: at most 2000 characters."
BODY = "Limit: at most 50000 characters."

# (service, message or "*", field) -> limit; the first match wins.
LIMITS: list[tuple[str, str, str, str]] = [
    ("*", "*", "request_id", UUID_),
    ("*", "*", "page_size", PAGE),
    ("*", "*", "starts_from", TIMESTAMP),
    ("*", "*", "starts_before", TIMESTAMP),
    ("registry", "*", "name", NAME),
    ("registry", "*", "display_name", NAME),
    ("registry", "*", "slug", SLUG),
    ("registry", "*", "domain", SLUG),
    ("registry", "*", "region", SLUG),
    ("registry", "*", "description", TEXT),
    ("registry", "*", "purpose", TEXT),
    ("registry", "*", "message", TEXT),
    ("registry", "*", "reason", TEXT),
    ("registry", "*", "host_organisation_ids", "Limit: at most 20 organisations."),
    ("registry", "*", "start_date", DATE),
    ("registry", "*", "end_date", DATE),
    ("registry", "*", "as_of", DATE),
    ("events", "*", "title", NAME),
    ("events", "*", "topic", NAME),
    ("events", "*", "venue", "Limit: at most 500 characters, one line."),
    ("events", "*", "description", TEXT),
    ("events", "*", "join_link", LINK),
    ("events", "*", "capacity", "Limit: at most 100000 (0: no limit)."),
    ("events", "*", "organiser_ids", "Limit: at most 50 people."),
    ("events", "*", "entries", "Limit: at most 5000 entries per call."),
    ("events", "*", "outcomes", "Limit: at most 20 outcomes."),
    ("events", "LearningOutcome", "text", SUMMARY),
    (
        "events",
        "LearningOutcome",
        "links",
        "Limit: at most 10 links, each an http(s) URL of at most 2000 characters.",
    ),
    ("events", "*", "comment", SUMMARY),
    ("events", "*", "reason", "Limit: at most 1000 characters."),
    ("events", "*", "cancelled_reason", TEXT),
    ("events", "*", "rating", "Limit: 1 to 5."),
    ("events", "*", "duration_minutes", "Limit: 1 to 1440."),
    ("events", "*", "occurrences", "Limit: at most 60 per call."),
    ("events", "*", "start", LOCAL),
    ("events", "*", "end", LOCAL + " At most 14 days after the start."),
    ("events", "*", "registration_opens", LOCAL),
    ("events", "*", "registration_closes", LOCAL),
    ("events", "*", "first_start", LOCAL),
    ("events", "*", "from_date", DATE),
    ("events", "*", "before_date", DATE),
    ("events", "*", "planned_from", DATE),
    ("events", "*", "planned_before", DATE),
    (
        "events",
        "SetConveningCpdRequest",
        "cpd_hours",
        "Limit: quarter hours, more than 0 and at most 100.",
    ),
    ("learning", "*", "title", NAME),
    ("learning", "*", "summary", SUMMARY),
    ("learning", "*", "body", BODY),
    ("learning", "*", "links", "Limit: at most 50 links."),
    ("learning", "Link", "url", LINK),
    (
        "learning",
        "*",
        "domain_tags",
        "Limit: at most 20 tags, each a slug of at most 64 characters.",
    ),
    ("learning", "*", "contributor_member_ids", "Limit: at most 50 people."),
    ("learning", "*", "partner_nodes", "Limit: at most 50 nodes."),
    ("learning", "SearchCatalogueRequest", "text", "Limit: at most 200 characters."),
    ("learning", "*", "published_from", DATE),
    ("learning", "*", "published_until", DATE),
    ("learning", "*", "effective_on", DATE),
    ("learning", "*", "presented_on", DATE),
    ("learning", "*", "evidence", SUMMARY),
    ("learning", "*", "note", SUMMARY),
    ("learning", "*", "reason", SUMMARY),
    ("notify", "*", "learning_domains", "Limit: at most 50 tags."),
    ("notify", "*", "learning_communities", "Limit: at most 50 communities."),
    ("notify", "*", "newsletter_opt_outs", "Limit: at most 50 communities."),
    ("notify", "*", "reminder_hours_before", "Limit: at most 336 (14 days)."),
    ("notify", "ComposeNewsletterRequest", "subject", NAME),
    ("notify", "ComposeNewsletterRequest", "body", BODY),
    ("notify", "UnsubscribeRequest", "token", "Limit: at most 400 characters."),
]
FIELD = re.compile(r"^  (?:repeated |optional )?[\w.]+ (\w+) = \d+;")


def annotate(path: Path, service: str, inputs: set[str]) -> int:
    lines = path.read_text().split("\n")
    out: list[str] = []
    message = ""
    added = 0
    for line in lines:
        start = re.match(r"^message (\w+) \{", line)
        if start:
            message = start.group(1)
        found = FIELD.match(line)
        if found and message in inputs:
            limit = next(
                (
                    text
                    for s, m, f, text in LIMITS
                    if s in ("*", service) and m in ("*", message) and f == found.group(1)
                ),
                None,
            )
            previous = out[-1] if out else ""
            if limit and "Limit:" not in previous:
                out.append(f"  // {limit}")
                added += 1
        out.append(line)
    path.write_text("\n".join(out))
    return added


def main() -> None:
    from copnet.events.v1 import events_pb2
    from copnet.learning.v1 import learning_pb2
    from copnet.notify.v1 import notify_pb2
    from copnet.registry.v1 import registry_pb2

    modules = {"registry": registry_pb2, "events": events_pb2, "learning": learning_pb2,
               "notify": notify_pb2}  # fmt: skip
    for service, module in modules.items():
        inputs: set[str] = set()

        def walk(descriptor, inputs=inputs):  # type: ignore[no-untyped-def]
            if descriptor.name in inputs or descriptor.full_name.startswith("google"):
                return
            inputs.add(descriptor.name)
            for field in descriptor.fields:
                if field.message_type is not None:
                    walk(field.message_type)

        for svc in module.DESCRIPTOR.services_by_name.values():
            for method in svc.methods:
                walk(method.input_type)
        path = Path("protos/copnet") / service / "v1" / f"{service}.proto"
        print(path, annotate(path, service, inputs), file=sys.stderr)


if __name__ == "__main__":
    main()
