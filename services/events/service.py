"""How the events service runs: its application, read models, inbox, API, web pages
(calendar feeds, CPD certificate verification) and published events.

`DEFINITION` reads the web settings from COPNET_* variables when a runtime is built;
`definition(settings)` fixes them (tests, embedding).
"""

from dataclasses import dataclass

from services.common.service import (
    InboxDefinition,
    ServiceDefinition,
    ServiceParts,
    ServiceRuntime,
)
from services.contracts.erasure import INBOX_NAME, ErasurePolicy, erasure_inbox
from services.contracts.registry_mirror import RegistryMirror, registry_subjects
from services.events.application import Events
from services.events.cpd.keys import EvidenceKeys
from services.events.grpc_api import SERVICE_NAME, EventsServicer
from services.events.integration import EVENTS
from services.events.mirror import CommunityDirectoryView
from services.events.views import Evidence, Schedule
from services.events.web import EventsPages
from services.events.web.reader import MemberEvidence
from services.events.web.settings import EventsLinks, EventsWebSettings


@dataclass(frozen=True, kw_only=True)
class EventsParts(ServiceParts):
    """The events service's parts, and what they share (tests reach them as
    `runtime.parts`)."""

    settings: EventsWebSettings
    links: EventsLinks
    evidence: MemberEvidence


def build(
    runtime: ServiceRuntime[Events], settings: EventsWebSettings | None = None
) -> EventsParts:
    s = settings or EventsWebSettings.from_env(runtime.settings)
    mirror = runtime.view(RegistryMirror)
    directory = CommunityDirectoryView(mirror)
    runtime.app.connect(directory, EvidenceKeys.derived(runtime.derived_secret))
    schedule = runtime.view(Schedule)
    links = EventsLinks(s)
    evidence = MemberEvidence(
        runtime.app, schedule, runtime.view(Evidence), directory, links, runtime.identity.node_id
    )
    return EventsParts(
        settings=s,
        links=links,
        evidence=evidence,
        servicer=lambda: EventsServicer(
            runtime.app,
            schedule,
            runtime.follower(Schedule.name),
            directory,
            evidence,
            runtime.follower(Evidence.name),
        ),
        api_workers=(
            lambda: EventsPages(
                runtime.app,
                evidence,
                s.http_address,
                links,
                runtime.api_work,
                tls=s.tls,
                limits=s.web_limits,
            ),
        ),
        handlers={INBOX_NAME: lambda: ErasurePolicy(runtime.app)},
        registry_position=directory.registry_position,
        known_member=mirror.is_known_member,
    )


def definition(settings: EventsWebSettings | None = None) -> ServiceDefinition[Events]:
    return ServiceDefinition(
        name="events",
        application=Events,
        integration=EVENTS,
        grpc_service_name=SERVICE_NAME,
        build=lambda runtime: build(runtime, settings),
        projections=(Schedule, Evidence),
        inboxes=(
            InboxDefinition(name="registry", subjects=registry_subjects, view=RegistryMirror),
            erasure_inbox(),
        ),
    )


DEFINITION = definition()
