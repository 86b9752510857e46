"""A real SMTP server on a loopback port (aiosmtpd) that keeps and parses what it receives.

It can refuse a recipient's next messages with a code (451 temporary, 550 permanent), hold
its reply after the end of a message's data (the window in which a sender that
dies cannot know whether the message arrived), drop a connection (at a sender's next
MAIL FROM, or once a message's data has arrived, before the reply), and counts
deliveries per recipient, the connections they came over and the QUITs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.ports import free_port


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    peer: tuple[str, int] = ("", 0)  # the client's end of the connection it came over

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def notification_id(self) -> str:
        return str(self.message["X-Copnet-Notification"])

    def part(self, content_type: str) -> Any:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part
        return None

    def text(self) -> str:
        part = self.part("text/plain")
        return part.get_content().replace("\r\n", "\n") if part is not None else ""

    def html(self) -> str:
        part = self.part("text/html")
        return part.get_content().replace("\r\n", "\n") if part is not None else ""

    def attachment(self, filename: str) -> bytes | None:
        for part in self.message.iter_attachments():
            if part.get_filename() == filename:
                return part.get_content()
        return None


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    def _dropping(self, stage: str) -> bool:
        with self.sink.lock:
            if stage in self.sink.drops:
                self.sink.drops.remove(stage)
                self.sink.dropped.append(stage)
                return True
        return False

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self._dropping("MAIL"):
            server.transport.abort()  # the connection drops: no reply
            return "421 dropped"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        with self.sink.lock:
            self.sink.quits += 1
        return "221 Bye"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        sink = self.sink
        with sink.lock:
            refused = [r for r in envelope.rcpt_tos if sink.refusals.get(r)]
            if refused:
                code = sink.refusals[refused[0]].pop(0)
                sink.refused += 1
                # As real servers do, the reply quotes the recipient.
                reason = "try again later" if code < 500 else "mailbox unavailable"
                return f"{code} <{refused[0]}>: {reason}"
            received = Received(
                envelope.mail_from,
                tuple(envelope.rcpt_tos),
                message_from_bytes(envelope.content, policy=policy.default),  # type: ignore[arg-type]
                envelope.content,
                tuple(session.peer[:2]),
            )
            sink.messages.append(received)
            hold = sink.hold_after is not None and len(sink.messages) > sink.hold_after
        if self._dropping("DATA"):  # taken, but the sender never hears so
            server.transport.abort()
            return "421 dropped"
        if hold:
            sink.holding.set()
            while not sink.released.is_set():
                await asyncio.sleep(0.05)
        return "250 OK: queued"


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        # Per recipient: the codes to answer its next messages with, in order.
        self.refusals: dict[str, list[int]] = {}
        self.refused = 0
        # Once this many messages arrived, hold the reply to each further one.
        self.hold_after: int | None = None
        self.holding = threading.Event()
        self.released = threading.Event()
        # Stages ("MAIL", "DATA") at which to drop the next connection that reaches them.
        self.drops: list[str] = []
        self.dropped: list[str] = []
        self.quits = 0
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.controller.stop()

    def refuse(self, recipient: str, *codes: int) -> None:
        """Answers the recipient's next messages with these codes (451, 550...)."""
        with self.lock:
            self.refusals.setdefault(recipient, []).extend(codes)

    def drop(self, *stages: str) -> None:
        """Drops the connection of the next message to reach each stage: "MAIL" (at MAIL
        FROM, before anything of the message), "DATA" (once its data has arrived, before
        the reply: the server has it, the sender cannot know)."""
        with self.lock:
            self.drops.extend(stages)

    def connections(self) -> set[tuple[str, int]]:
        """The connections messages came over."""
        return {m.peer for m in self.received()}

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received() if address in m.recipients]

    def per_recipient(self) -> Counter[str]:
        return Counter(r for m in self.received() for r in m.recipients)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} messages within {timeout}s, got {len(self.received())}"
                )
            time.sleep(0.05)
        return self.received()
