"""How the notify service runs: its application, directory, read models, inboxes,
dispatcher, unsubscribe pages, API and published events.

`DEFINITION` reads the notify settings (SMTP, links, schedules) from COPNET_*
variables when a runtime is built; `definition(settings)` fixes them (tests,
embedding).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.keyring import link_secret_reader
from services.common.service import (
    InboxDefinition,
    ServiceDefinition,
    ServiceParts,
    ServiceRuntime,
)
from services.contracts.registry_mirror import registry_subjects
from services.notify.application import Notify
from services.notify.delivery.compose import Composer
from services.notify.delivery.rendering import TemplateLibrary
from services.notify.delivery.transport import transport_for
from services.notify.directory import NotifyDirectory
from services.notify.dispatcher import Dispatcher
from services.notify.grpc_api import SERVICE_NAME, NotifyServicer
from services.notify.integration import NOTIFY
from services.notify.reactions.decisions import Schedules
from services.notify.reactions.policy import (
    ADDRESS_CHANGE_REQUESTED,
    LEARNING_EVENT_TYPES,
    NotifyPolicy,
)
from services.notify.settings import NotifySettings
from services.notify.unsubscribe import UnsubscribeTokens
from services.notify.views import Mailbox, PreferencesView
from services.notify.web import LinkBase, UnsubscribePages


@dataclass(frozen=True, kw_only=True)
class NotifyParts(ServiceParts):
    """Notify's parts, and what they share (tests and benchmarks reach them as
    `runtime.parts`)."""

    settings: NotifySettings
    directory: NotifyDirectory
    mailbox: Mailbox
    tokens: UnsubscribeTokens
    links: LinkBase
    composer: Composer


def build(runtime: ServiceRuntime[Notify], settings: NotifySettings | None = None) -> NotifyParts:
    s = settings or NotifySettings.from_env(runtime.settings)
    app = runtime.app
    directory, mailbox = runtime.view(NotifyDirectory), runtime.view(Mailbox)
    schedules = Schedules(
        reminder_hours_before=s.reminder_hours_before,
        digest_hour=s.digest_hour,
        max_trigger_age=s.max_trigger_age,
    )
    app.connect(directory, runtime.view(PreferencesView), schedules)
    tokens = UnsubscribeTokens(
        link_secret_reader(runtime.settings.key_files, runtime.settings.node_id)
    )
    links = LinkBase(s)
    sender = s.sender(runtime.identity.node_id)
    composer = Composer(app, directory, TemplateLibrary(), tokens, sender, links)
    return NotifyParts(
        known_member=directory.registry.is_known_member,
        settings=s,
        directory=directory,
        mailbox=mailbox,
        tokens=tokens,
        links=links,
        composer=composer,
        servicer=lambda: NotifyServicer(
            app,
            mailbox,
            runtime.follower(Mailbox.name),
            directory,
            composer,
            tokens,
            s.reminder_hours_before,
        ),
        workers=(
            lambda: Dispatcher(
                app, mailbox, runtime.follower(Mailbox.name), composer, transport_for(s), s
            ),
        ),
        api_workers=(
            lambda: UnsubscribePages(
                app,
                directory,
                tokens,
                s.http_address,
                links,
                runtime.api_work,
                tls=s.tls,
                limits=s.web_limits,
            ),
        ),
        handlers={
            "events": lambda: NotifyPolicy(app),
            "learning": lambda: NotifyPolicy(app),
            "addresses": lambda: NotifyPolicy(app),
        },
        registry_position=directory.registry.registry_position,
    )


def definition(settings: NotifySettings | None = None) -> ServiceDefinition[Notify]:
    return ServiceDefinition(
        name="notify",
        application=Notify,
        integration=NOTIFY,
        grpc_service_name=SERVICE_NAME,
        build=lambda runtime: build(runtime, settings),
        projections=(PreferencesView, Mailbox),
        inboxes=(
            InboxDefinition(name="registry", subjects=registry_subjects, view=NotifyDirectory),
            InboxDefinition(
                name="events", subjects=lambda identity: identity.service_subjects("events")
            ),
            InboxDefinition(
                name="learning",
                subjects=lambda identity: identity.event_subjects("learning", LEARNING_EVENT_TYPES),
            ),
            # Requested address changes: the confirmation code goes to the new address.
            InboxDefinition(
                name="addresses",
                subjects=lambda identity: [  # personal: on the member's own subject
                    identity.personal_subject("registry", "*", ADDRESS_CHANGE_REQUESTED)
                ],
            ),
        ),
        # Triggers read preferences, the dispatcher the mailbox: the worker keeps them current
        # too when the API (which follows its views) runs in another process.
        worker_follows=(PreferencesView, Mailbox),
    )


DEFINITION = definition()
