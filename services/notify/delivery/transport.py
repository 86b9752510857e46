"""How messages leave the node: SMTP, or .eml files when no mail server is configured.

Each `send` answers with one of four outcomes, which the dispatcher records:
- DELIVERED: the server accepted the message (2xx after the end of its data);
- TEMPORARY: it certainly did not take it, and may later (4xx, or the connection
  failed before the end of the data was sent): retried with backoff;
- PERMANENT: it refused for good (5xx): not retried;
- IN_DOUBT: the end of the data was sent but no reply came (the connection broke
  or timed out while the server answered). The server may have taken it, so the
  dispatcher does not send it again by itself.
SMTP sends the DATA phase by hand (rather than `smtplib.sendmail`) to know
exactly which side of that line a failure fell.

The file transport writes each message atomically (a temporary file, fsync,
rename) to `<outbox>/<message-id>.eml`, so it can also tell, after a crash,
whether an interrupted attempt wrote its file: its deliveries are exactly once.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from services.notify.settings import NotifySettings


class Outcome(StrEnum):
    DELIVERED = "delivered"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    IN_DOUBT = "in_doubt"


@dataclass(frozen=True)
class Delivery:
    """What happened to one message. `detail` is recorded in notify's events, so it never
    holds an address: what a mail server said passes through `redact_addresses`."""

    outcome: Outcome
    detail: str


# Anything shaped like an address (local part @ domain), with or without <...> around it.
_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"']+@[^\s<>()\[\]\\,;:\"']+")


def redact_addresses(text: str) -> str:
    """`text` with every e-mail address replaced by the word `address`."""
    return _ADDRESS.sub("address", text)


class Transport(Protocol):
    def send(self, data: bytes, message_id: str, sender: str, recipient: str) -> Delivery:
        """Hands over one message (`data`: its wire bytes, `mailing.wire_bytes`)."""
        ...

    def was_sent(self, message_id: str) -> bool | None:
        """After a crash: True/False if the transport can tell whether a message went
        out, None if it cannot (SMTP)."""

    def forget(self, message_id: str) -> bool:
        """Removes what the transport kept of a message (an erased member's), if anything."""
        ...

    def close_idle(self) -> int:
        """Closes what has been idle too long (SMTP connections); how many."""
        ...

    def close(self) -> None: ...


def _reply(code: int, text: bytes | str) -> str:
    """A server's reply as recorded: one line, bounded, without addresses (servers quote
    the recipient: "550 5.1.1 <jo@example.org>: user unknown")."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return redact_addresses(f"{code} {' '.join(text.split())}")[:300]


def _said(error: BaseException) -> str:
    """An SMTP or socket error as recorded (smtplib quotes the server too)."""
    return redact_addresses(str(error))[:300]


class _Refused(Exception):
    def __init__(self, code: int, text: bytes | str, stage: str) -> None:
        super().__init__(stage)
        self.code = code
        self.detail = f"{stage}: {_reply(code, text)}"


def _classify(code: int) -> Outcome:
    return Outcome.PERMANENT if 500 <= code < 600 else Outcome.TEMPORARY


class SmtpTransport:
    """A small pool of SMTP connections, kept open between messages.

    Each of the dispatcher's sends takes a connection for one message and gives it
    back; with at most `concurrency` messages in flight, at most that many are open,
    each carrying one transaction at a time. The most recently used is taken first,
    and one idle for `smtp_idle` seconds is closed (`close_idle`, which the dispatcher
    calls between passes, and when it would be taken). A connection that fails is
    dropped, never given back; one the server had closed while it was idle fails before
    the message is sent, and the message is tried once more on a fresh connection.
    `close` (at shutdown) closes them all, and any given back later."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._idle: list[tuple[float, smtplib.SMTP]] = []  # (given back at, connection)
        self._lock = threading.Lock()
        self._closed = False
        self._context: ssl.SSLContext | None = None
        self.opened = 0  # connections opened, over the transport's life

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security != "none" and self._context is None:
            self._context = ssl.create_default_context()
        context = self._context
        if s.smtp_security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            client.ehlo()
            if s.smtp_security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if s.smtp_user:
                client.login(s.smtp_user, s.smtp_password)
        except BaseException:
            with contextlib.suppress(Exception):
                client.close()
            raise
        with self._lock:
            self.opened += 1
        return client

    def _take(self) -> smtplib.SMTP | None:
        """The most recently given back connection that has not been idle too long."""
        stale: list[smtplib.SMTP] = []
        client = None
        with self._lock:
            limit = time.monotonic() - self.settings.smtp_idle
            while self._idle:
                at, candidate = self._idle.pop()
                if at >= limit:
                    client = candidate
                    break
                stale.append(candidate)
        _quit_all(stale)
        return client

    def _give_back(self, client: smtplib.SMTP) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append((time.monotonic(), client))
                return
        _quit_all([client])

    @property
    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    def close_idle(self) -> int:
        """Closes the connections idle for longer than `smtp_idle`; how many."""
        with self._lock:
            limit = time.monotonic() - self.settings.smtp_idle
            stale = [client for at, client in self._idle if at < limit]
            self._idle = [(at, client) for at, client in self._idle if at >= limit]
        _quit_all(stale)
        return len(stale)

    def send(self, data: bytes, message_id: str, sender: str, recipient: str) -> Delivery:
        client = self._take()
        reused = client is not None
        for _ in range(2):
            if client is None:
                try:
                    client = self._connect()
                except smtplib.SMTPAuthenticationError as error:
                    refused = _reply(error.smtp_code, error.smtp_error)
                    return Delivery(Outcome.TEMPORARY, f"login refused: {refused}")
                except (smtplib.SMTPException, OSError) as error:
                    return Delivery(Outcome.TEMPORARY, f"could not connect: {_said(error)}")
            delivery, keep = self._transaction(client, data, sender, recipient)
            if keep:
                self._give_back(client)
                return delivery
            with contextlib.suppress(Exception):
                client.close()
            client = None
            if not (reused and delivery.detail.startswith("connection lost before")):
                return delivery
            reused = False  # a connection the server had closed while idle: once more, fresh
        return delivery

    def _transaction(
        self, client: smtplib.SMTP, data: bytes, sender: str, recipient: str
    ) -> tuple[Delivery, bool]:
        """One message; (what happened, whether the connection is fit for the next)."""
        data_sent = False
        try:
            code, text = client.mail(sender)
            if code != 250:
                raise _Refused(code, text, "MAIL FROM")
            code, text = client.rcpt(recipient)
            if code not in (250, 251):
                raise _Refused(code, text, "RCPT TO")
            code, text = client.docmd("DATA")
            if code != 354:
                raise _Refused(code, text, "DATA")
            payload = re.sub(rb"(?m)^\.", b"..", data)
            if not payload.endswith(b"\r\n"):
                payload += b"\r\n"
            client.send(payload + b".\r\n")
            data_sent = True
            code, text = client.getreply()
            if 200 <= code < 300:
                return Delivery(Outcome.DELIVERED, _reply(code, text)), True
            if code == -1:
                raise smtplib.SMTPServerDisconnected("no reply after the end of the data")
            raise _Refused(code, text, "end of data")
        except _Refused as refused:
            with contextlib.suppress(Exception):
                client.rset()
            return Delivery(_classify(refused.code), refused.detail), refused.code != 421
        except (smtplib.SMTPException, OSError) as error:
            if data_sent:
                return Delivery(
                    Outcome.IN_DOUBT,
                    f"connection lost after the message was sent, before the server "
                    f"confirmed it: {_said(error)}",
                ), False
            lost = f"connection lost before the message was sent: {_said(error)}"
            return Delivery(Outcome.TEMPORARY, lost), False

    def was_sent(self, message_id: str) -> bool | None:
        return None

    def forget(self, message_id: str) -> bool:
        return False  # the mail server has it; nothing is kept here

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        _quit_all([client for _, client in idle])


def _quit_all(clients: list[smtplib.SMTP]) -> None:
    for client in clients:
        try:
            client.quit()
        except Exception:
            with contextlib.suppress(Exception):
                client.close()


def _file_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9.@_-]", "_", message_id.strip("<>")) + ".eml"


class FileTransport:
    """Writes each message to `<outbox>/<message-id>.eml` (for a node with no mail server)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path_of(self, message_id: str) -> Path:
        return self.directory / _file_name(message_id)

    def send(self, data: bytes, message_id: str, sender: str, recipient: str) -> Delivery:
        target = self.path_of(message_id)
        try:
            descriptor, staging = tempfile.mkstemp(dir=self.directory, prefix=".sending-")
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staging, target)
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            return Delivery(Outcome.TEMPORARY, f"could not write the message: {error}")
        return Delivery(Outcome.DELIVERED, f"written to {target.name}")

    def was_sent(self, message_id: str) -> bool | None:
        return self.path_of(message_id).exists()

    def forget(self, message_id: str) -> bool:
        """Overwrites the message's file with zeros, then removes it."""
        path = self.path_of(message_id)
        try:
            with path.open("r+b") as handle:
                handle.write(bytes(path.stat().st_size))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def close_idle(self) -> int:
        return 0

    def close(self) -> None:
        for leftover in self.directory.glob(".sending-*"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def transport_for(settings: NotifySettings) -> Transport:
    if settings.uses_smtp:
        return SmtpTransport(settings)
    return FileTransport(settings.outbox_dir)
