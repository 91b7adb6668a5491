"""IMAP mailboxes: registering them, and polling each for mail it has not fetched yet.

Polling is idempotent. A mailbox remembers its folder's UIDVALIDITY and the highest UID
fetched, and asks only for newer UIDs; if UIDVALIDITY changes (the server renumbered the
folder) everything is fetched again and Message-ID dedupe counts the old mail as duplicates.
Messages are fetched with BODY.PEEK[] on a read-only SELECT, so they stay unread for people.
The password is never stored: the mailbox keeps the name of an environment variable.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from amends.db import chunked
from amends.errors import Conflict, DomainError, InvalidInput, NotFound
from amends.feedback.service import IngestLimits, IngestSummary, ingest
from amends.mailbox.models import Mailbox, MailboxMessage
from amends.sources.base import Item, ParseOptions, Rejected
from amends.sources.email import message_to_item

log = logging.getLogger(__name__)

# UIDs fetched per FETCH command: bounds memory and the size of one server response.
FETCH_BATCH = 100
TIMEOUT_S = 30.0
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FETCH_UID = re.compile(rb"\bUID (\d+)")


class MailboxUnavailable(DomainError):
    """The IMAP server could not be reached, refused the login, or broke off."""

    code = "mailbox_unavailable"


def add_mailbox(
    session: Session,
    *,
    name: str,
    host: str,
    port: int,
    username: str,
    password_env: str,
    now: datetime,
    folder: str = "INBOX",
    use_ssl: bool = True,
    starttls: bool = False,
) -> Mailbox:
    """Register a mailbox to poll. The caller commits."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a mailbox name is 1 to 100 characters")
    if not host.strip():
        raise InvalidInput("the IMAP host is empty")
    if not 0 < port < 65536:
        raise InvalidInput(f"port {port} is not a TCP port (1-65535)")
    if not _ENV_NAME.match(password_env):
        raise InvalidInput(
            "--password-env takes the NAME of an environment variable that holds the password "
            "(for example AMENDS_IMAP_PASSWORD), not the password itself"
        )
    if use_ssl and starttls:
        raise InvalidInput("choose either SSL (IMAPS) or STARTTLS, not both")
    if not folder.strip():
        raise InvalidInput("the folder is empty")
    if session.scalar(select(Mailbox.id).where(Mailbox.name == name)) is not None:
        raise Conflict(f"mailbox {name!r} already exists")
    box = Mailbox(
        name=name,
        host=host.strip(),
        port=port,
        username=username,
        password_env=password_env,
        folder=folder.strip(),
        use_ssl=use_ssl,
        starttls=starttls,
        last_uid=0,
        created_at=now,
    )
    session.add(box)
    session.flush()
    return box


def list_mailboxes(session: Session) -> list[Mailbox]:
    return list(session.scalars(select(Mailbox).order_by(Mailbox.name)))


def get_mailbox(session: Session, name: str) -> Mailbox:
    box = session.scalar(select(Mailbox).where(Mailbox.name == name))
    if box is None:
        raise NotFound("mailbox", name)
    return box


def password_for(mailbox: Mailbox, environ: Mapping[str, str]) -> str:
    """The mailbox's password from its environment variable, or InvalidInput naming the variable."""
    password = environ.get(mailbox.password_env, "")
    if not password:
        raise InvalidInput(
            f"mailbox {mailbox.name}: the environment variable {mailbox.password_env} "
            "(its password) is not set"
        )
    return password


def poll_mailbox(
    session: Session,
    mailbox: Mailbox,
    *,
    now: datetime,
    limits: IngestLimits,
    password: str,
    brand_handles: frozenset[str] = frozenset(),
) -> IngestSummary:
    """Fetch and ingest the mail that arrived since the last poll. The caller commits.

    The mailbox's own address counts as the brand's, so mail from it is an outgoing reply.
    """
    brand = set(brand_handles)
    if "@" in mailbox.username:
        brand.add(mailbox.username.lower())
    options = ParseOptions(brand_handles=frozenset(brand))
    conn = _connect(mailbox, password)
    try:
        validity = _select(conn, mailbox)
        start = mailbox.last_uid if validity == mailbox.uid_validity else 0
        if mailbox.uid_validity is not None and validity != mailbox.uid_validity:
            log.warning(
                "mailbox %s: UIDVALIDITY changed (%s -> %s); fetching the folder again",
                mailbox.name,
                mailbox.uid_validity,
                validity,
            )
        uids = _new_uids(conn, mailbox, after=start)
        fetched: list[int] = []
        summary = ingest(
            session,
            _fetch(conn, mailbox, uids, options=options, fetched=fetched),
            origin=f"imap:{mailbox.name}",
            fmt="eml",
            now=now,
            limits=limits,
        )
    finally:
        _logout(conn)
    _record_fetched(session, mailbox, validity, fetched, now=now)
    mailbox.uid_validity = validity
    mailbox.last_uid = max([start, *fetched])
    mailbox.last_polled_at = now
    session.flush()
    return summary


def _record_fetched(
    session: Session, mailbox: Mailbox, validity: int, uids: list[int], *, now: datetime
) -> None:
    """Note each fetched UID once (a refetch after a UIDVALIDITY change may meet old ones)."""
    known: set[int] = set()
    for part in chunked(uids):
        known.update(
            session.scalars(
                select(MailboxMessage.uid).where(
                    MailboxMessage.mailbox_id == mailbox.id,
                    MailboxMessage.uid_validity == validity,
                    MailboxMessage.uid.in_(part),
                )
            )
        )
    rows = [
        {"mailbox_id": mailbox.id, "uid_validity": validity, "uid": uid, "fetched_at": now}
        for uid in sorted(set(uids) - known)
    ]
    if rows:
        session.execute(insert(MailboxMessage), rows)


def _where(mailbox: Mailbox) -> str:
    return f"{mailbox.host}:{mailbox.port}"


def _connect(mailbox: Mailbox, password: str) -> imaplib.IMAP4:
    """A logged-in connection, or MailboxUnavailable saying what failed (never the password)."""
    where = _where(mailbox)
    context = ssl.create_default_context()
    try:
        if mailbox.use_ssl:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT_S
            )
        else:
            conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_S)
    except ssl.SSLError as exc:
        raise MailboxUnavailable(
            f"TLS with IMAP server {where} failed: {_reason(exc)} (is it an IMAPS port? "
            "try --no-ssl, or --starttls)"
        ) from exc
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxUnavailable(f"cannot connect to IMAP server {where}: {_reason(exc)}") from exc
    try:
        if mailbox.starttls:
            conn.starttls(ssl_context=context)
        conn.login(mailbox.username, password)
    except ssl.SSLError as exc:
        _logout(conn)
        raise MailboxUnavailable(
            f"STARTTLS with IMAP server {where} failed: {_reason(exc)}"
        ) from exc
    except imaplib.IMAP4.error as exc:
        _logout(conn)
        raise MailboxUnavailable(
            f"IMAP login to {where} as {mailbox.username!r} failed: {_reason(exc)}"
        ) from exc
    except OSError as exc:
        _logout(conn)
        raise MailboxUnavailable(
            f"IMAP server {where} broke off during login: {_reason(exc)}"
        ) from exc
    return conn


def _select(conn: imaplib.IMAP4, mailbox: Mailbox) -> int:
    """Open the folder read-only (fetching then never marks mail read); return UIDVALIDITY."""
    where = _where(mailbox)
    try:
        status, data = conn.select(_quote(mailbox.folder), readonly=True)
        if status != "OK":
            raise MailboxUnavailable(
                f"IMAP server {where} has no folder {mailbox.folder!r}: {_text(data)}"
            )
        _, values = conn.response("UIDVALIDITY")
        if not values or values[0] is None:
            _, values = conn.status(_quote(mailbox.folder), "(UIDVALIDITY)")
            found = re.search(rb"UIDVALIDITY (\d+)", _bytes(values))
            return int(found.group(1)) if found else 0
        return int(_bytes(values[:1]).strip() or b"0")
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxUnavailable(
            f"IMAP server {where}: cannot open folder {mailbox.folder!r}: {_reason(exc)}"
        ) from exc


def _uid(conn: imaplib.IMAP4, mailbox: Mailbox, command: str, *args: str) -> Any:
    """One UID command; any failure, raised or answered, becomes a MailboxUnavailable."""
    try:
        status, data = conn.uid(command, *args)
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxUnavailable(
            f"IMAP {command} on {_where(mailbox)} failed: {_reason(exc)}"
        ) from exc
    if status != "OK":
        raise MailboxUnavailable(f"IMAP {command} on {_where(mailbox)} failed: {_text(data)}")
    return data


def _new_uids(conn: imaplib.IMAP4, mailbox: Mailbox, *, after: int) -> list[int]:
    data = _uid(conn, mailbox, "SEARCH", f"UID {after + 1}:*")
    # "n:*" always includes the highest UID, even when it is below n: filter it out.
    return sorted(uid for uid in map(int, _bytes(data).split()) if uid > after)


def _fetch(
    conn: imaplib.IMAP4,
    mailbox: Mailbox,
    uids: list[int],
    *,
    options: ParseOptions,
    fetched: list[int],
) -> Iterator[Item | Rejected]:
    """Each new message as an item or a reject, a batch of UIDs per FETCH; records `fetched`."""
    for start in range(0, len(uids), FETCH_BATCH):
        batch = uids[start : start + FETCH_BATCH]
        data = _uid(conn, mailbox, "FETCH", ",".join(map(str, batch)), "(UID BODY.PEEK[])")
        for part in data:
            if not isinstance(part, tuple) or len(part) < 2:
                continue
            found = _FETCH_UID.search(part[0])
            if found is None:
                continue
            uid = int(found.group(1))
            if uid not in batch:
                continue
            fetched.append(uid)
            yield message_to_item(
                bytes(part[1]), location=f"{mailbox.folder} UID {uid}", options=options
            )


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        # The session is over either way; a failed goodbye loses nothing.
        log.debug("IMAP logout failed", exc_info=True)


def _quote(folder: str) -> str:
    """A folder name as an IMAP quoted string (names may hold spaces)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bytes(data: list[object] | list[bytes | None] | object) -> bytes:
    if isinstance(data, list | tuple):
        return b" ".join(x if isinstance(x, bytes) else str(x).encode() for x in data if x)
    return data if isinstance(data, bytes) else str(data).encode()


def _text(data: object) -> str:
    return _bytes(data).decode("utf-8", "replace")[:300]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT_S:.0f} s"
    text = str(exc)
    if isinstance(exc, imaplib.IMAP4.error) and text.startswith("b'"):
        text = text[2:-1]
    return " ".join(text.split())[:300] or type(exc).__name__
