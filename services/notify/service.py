"""How the notify service runs: its application, directory, read models, inboxes,
dispatcher, unsubscribe pages, API and published events.

`DEFINITION` reads the notify settings (SMTP, links, schedules) from COPNET_*
variables when a runtime is built; `definition(settings)` fixes them (tests,
embedding).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.projection import ProjectionFollower
from services.common.service import InboxDefinition, ServiceDefinition, ServiceRuntime
from services.contracts.registry_mirror import registry_subjects
from services.notify.application import Notify
from services.notify.delivery.compose import Composer
from services.notify.delivery.rendering import TemplateLibrary
from services.notify.delivery.transport import transport_for
from services.notify.directory import NotifyDirectory
from services.notify.dispatcher import Dispatcher
from services.notify.grpc_api import SERVICE_NAME, NotifyServicer, register
from services.notify.integration import NOTIFY
from services.notify.reactions.decisions import Schedules
from services.notify.reactions.policy import NotifyPolicy
from services.notify.settings import NotifySettings
from services.notify.unsubscribe import PURPOSE, UnsubscribeTokens
from services.notify.views import Mailbox, PreferencesView
from services.notify.web import LinkBase, UnsubscribePages


@dataclass(frozen=True)
class NotifyParts:
    settings: NotifySettings
    directory: NotifyDirectory
    mailbox: Mailbox
    tokens: UnsubscribeTokens
    links: LinkBase
    composer: Composer


def parts(runtime: ServiceRuntime) -> NotifyParts:
    return runtime.notify  # type: ignore[attr-defined]


def definition(settings: NotifySettings | None = None) -> ServiceDefinition:
    def wire(runtime: ServiceRuntime) -> None:
        notify_settings = settings or NotifySettings.from_env(runtime.settings)
        app = runtime.app
        assert isinstance(app, Notify)
        directory = runtime.projections[NotifyDirectory.name]
        preferences = runtime.projections[PreferencesView.name]
        mailbox = runtime.projections[Mailbox.name]
        assert isinstance(directory, NotifyDirectory)
        assert isinstance(preferences, PreferencesView) and isinstance(mailbox, Mailbox)
        app.wire(
            directory,
            preferences,
            Schedules(
                reminder_hours_before=notify_settings.reminder_hours_before,
                digest_hour=notify_settings.digest_hour,
                max_trigger_age=notify_settings.max_trigger_age,
            ),
        )
        if "worker" in runtime.roles:
            # Triggers read preferences, the dispatcher the mailbox: keep them current here
            # too when the API (which follows its views) runs in another process.
            for view in (preferences, mailbox):
                if view.name not in runtime.followers:
                    runtime.followers[view.name] = ProjectionFollower(app, view)
        tokens = UnsubscribeTokens(runtime.authority.derived_secret(PURPOSE))
        links = LinkBase(notify_settings)
        composer = Composer(
            app,
            directory,
            TemplateLibrary(),
            tokens,
            notify_settings.sender(runtime.identity.node_id),
            links,
        )
        runtime.notify = NotifyParts(  # type: ignore[attr-defined]
            notify_settings, directory, mailbox, tokens, links, composer
        )

    def servicer(runtime: ServiceRuntime) -> NotifyServicer:
        p = parts(runtime)
        return NotifyServicer(
            runtime.app,  # type: ignore[arg-type]
            p.mailbox,
            runtime.follower(Mailbox.name),
            p.composer,
            p.tokens,
            p.settings.reminder_hours_before,
        )

    def dispatcher(runtime: ServiceRuntime) -> Dispatcher:
        p = parts(runtime)
        return Dispatcher(
            runtime.app,  # type: ignore[arg-type]
            p.mailbox,
            runtime.followers[Mailbox.name],
            p.composer,
            transport_for(p.settings),
            p.settings,
        )

    def pages(runtime: ServiceRuntime) -> UnsubscribePages:
        p = parts(runtime)
        return UnsubscribePages(
            runtime.app,  # type: ignore[arg-type]
            p.directory,
            p.tokens,
            p.settings.http_address,
            p.links,
        )

    def policy(runtime: ServiceRuntime) -> NotifyPolicy:
        return NotifyPolicy(runtime.app)  # type: ignore[arg-type]

    return ServiceDefinition(
        name="notify",
        application=Notify,
        integration=NOTIFY,
        grpc_service_name=SERVICE_NAME,
        servicer=servicer,
        register=register,
        projections=(PreferencesView, Mailbox),
        inboxes=(
            InboxDefinition(name="registry", subjects=registry_subjects, view=NotifyDirectory),
            InboxDefinition(
                name="events",
                subjects=lambda identity: identity.service_subjects("events"),
                handler=policy,
            ),
            InboxDefinition(
                name="learning",
                subjects=lambda identity: identity.service_subjects("learning"),
                handler=policy,
            ),
        ),
        wire=wire,
        workers=(dispatcher,),
        api_workers=(pages,),
    )


DEFINITION = definition()
