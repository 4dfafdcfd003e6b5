"""The class roster: people (name, role, optional email) and their join links.

A join link carries a random token (`secrets.token_urlsafe`, 256 bits); the database keeps only its SHA-256,
so a leaked database gives no working link. A token is revocable, and re-issuing one revokes the previous.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa

from workbench.core.db import get_engine, write_transaction
from workbench.core.db.schema import join_tokens, people
from workbench.core.i18n import LocalizedError
from workbench.core.people import Person, Role

#: The URL parameter of a join link (`http://HOST:8501/?join=TOKEN`).
JOIN_PARAM = "join"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: The longest name a person gets from an identity provider (the solo name field's limit).
NAME_MAX = 60


class RosterError(LocalizedError):
    """A roster that cannot be imported, or a person who is not in the class (FR + EN message)."""

    namespace = "classroom"


@dataclass(frozen=True)
class Invitation:
    """A person and the join link that signs them in (the token is shown once, never stored)."""

    person: Person
    token: str
    created: bool = True

    def link(self, base_url: str) -> str:
        """The join link on the app at `base_url`."""
        return f"{base_url.rstrip('/')}/?{urlencode({JOIN_PARAM: self.token})}"


def hash_token(token: str) -> str:
    """The stored form of a join token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RosterEntry:
    """One person of a roster file, with the line they are on (for error messages)."""

    person: Person
    line: int


def parse_roster(text: str, file: str = "roster.csv") -> list[RosterEntry]:
    """People of a roster CSV (columns name, role, optional email); a bad line raises RosterError naming it."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    for column in ("name", "role"):
        if column not in header:
            raise RosterError("missing_column", file=file, column=column, found=",".join(header) or "∅")
    reader.fieldnames = header
    found: list[RosterEntry] = []
    names: dict[str, int] = {}
    emails: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(values.values()):
            continue  # a blank line
        name, role, email = values.get("name", ""), values.get("role", "").lower(), values.get("email", "")
        if not name:
            raise RosterError("empty_name", file=file, line=line)
        if role not in {r.value for r in Role}:
            raise RosterError("bad_role", file=file, line=line, role=values.get("role", ""))
        if email and not EMAIL.match(email):
            raise RosterError("bad_email", file=file, line=line, email=email)
        if name.casefold() in names:
            raise RosterError("duplicate_name", file=file, line=line, name=name, first=names[name.casefold()])
        if email and email.lower() in emails:
            raise RosterError("duplicate_email", file=file, line=line, email=email, first=emails[email.lower()])
        names[name.casefold()] = line
        if email:
            emails[email.lower()] = line
        found.append(RosterEntry(Person(name, Role(role), email.lower() or None), line))
    if not found:
        raise RosterError("empty_roster", file=file)
    return found


class Roster:
    """The people of a class and their join tokens, in the workbench's database."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def engine(self) -> sa.Engine:
        """The database engine (created and migrated on first use)."""
        return get_engine(self.url)

    def people(self) -> list[Person]:
        """Everyone in the class, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(people.c.name, people.c.role, people.c.email).order_by(people.c.name))
            return [Person(r.name, Role(r.role), r.email) for r in rows]

    def person(self, name: str) -> Person | None:
        """The person of that name, if in the class."""
        query = sa.select(people.c.name, people.c.role, people.c.email).where(people.c.name == name)
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else Person(row.name, Role(row.role), row.email)

    def person_by_email(self, email: str) -> Person | None:
        """The person with that email (case-insensitive), if in the class."""
        query = sa.select(people.c.name, people.c.role, people.c.email).where(people.c.email == email.strip().lower())
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else Person(row.name, Role(row.role), row.email)

    def import_people(self, roster: list[RosterEntry], file: str = "roster.csv") -> list[Invitation]:
        """Add the roster's new people, each with a join link; people already in the class keep theirs.

        Returns one invitation per new person (in roster order). All or nothing: a conflict adds nobody.
        """
        now = time.time()
        invitations = []
        with write_transaction(self.engine) as conn:
            known = {r.name for r in conn.execute(sa.select(people.c.name))}
            owners = {r.email: r.name for r in conn.execute(sa.select(people.c.email, people.c.name)) if r.email}
            for entry in roster:
                person, line = entry.person, entry.line
                if person.name in known:
                    continue
                if person.email and person.email in owners:
                    raise RosterError(
                        "email_taken", file=file, line=line, email=person.email, owner=owners[person.email]
                    )
                conn.execute(
                    people.insert().values(name=person.name, role=person.role.value, email=person.email, created_at=now)
                )
                invitations.append(Invitation(person, self._new_token(conn, person.name, now)))
        return invitations

    def enrol(self, person: Person, subject: str = "") -> Person | None:
        """The class's entry for someone an identity provider signed in, added on their first sign-in.

        Known by email: the roster's entry (its name and role win). Otherwise they are added as a learner (no
        join link: the provider signs them in). A name someone else has (another email, or a roster entry with
        a join link) gets the email, else the provider's subject, appended: two people never share one learner's
        work. Idempotent, and safe when two sessions of one person sign in at once.

        Args:
            person: who the provider says signed in (the token's name and email).
            subject: the provider's stable id of that person (`sub`), to tell apart two people without email.

        Returns:
            Their entry, or None when every name they could get is someone else's.
        """
        email = person.email.strip().lower() if person.email else None
        name = person.name.strip()[:NAME_MAX] or email or subject.strip()[:NAME_MAX]
        if not name:
            return None
        suffix = email or subject.strip()[:NAME_MAX]
        with self.engine.connect() as conn:  # every page run asks: a read, no write lock, once they are known
            known, free = self._match(conn, name, email, suffix)
        if known is not None or free is None:
            return known
        for _ in range(2):  # a concurrent first sign-in of the same person inserts first: read theirs then
            try:
                with write_transaction(self.engine) as conn:
                    known, free = self._match(conn, name, email, suffix)
                    if known is None and free is not None:
                        values = {"name": free, "role": Role.LEARNER.value, "email": email, "created_at": time.time()}
                        conn.execute(people.insert().values(**values))
                        known = Person(free, Role.LEARNER, email)
                    return known
            except sa.exc.IntegrityError:
                continue
        return None

    def _match(
        self, conn: sa.Connection, name: str, email: str | None, suffix: str
    ) -> tuple[Person | None, str | None]:
        """(their entry if they are in the class, else None; the name they would get, None if all are taken)."""
        columns = (people.c.name, people.c.role, people.c.email)
        if email is not None:
            row = conn.execute(sa.select(*columns).where(people.c.email == email)).one_or_none()
            if row is not None:
                return Person(row.name, Role(row.role), row.email), None
        for candidate in dict.fromkeys([name, f"{name} ({suffix})" if suffix else name]):
            row = conn.execute(sa.select(*columns).where(people.c.name == candidate)).one_or_none()
            if row is None:
                return None, candidate
            linked = conn.execute(sa.select(join_tokens.c.name).where(join_tokens.c.name == candidate).limit(1))
            if email is None and row.email is None and linked.first() is None:
                return Person(row.name, Role(row.role), row.email), None  # signed in before (no email, no link)
        return None, None

    def add(self, name: str, role: Role = Role.LEARNER, email: str | None = None) -> Invitation:
        """Add one person and give them a join link."""
        invitations = self.import_people([RosterEntry(Person(name, role, email.lower() if email else None), 0)])
        if not invitations:
            raise RosterError("already_in_class", name=name)
        return invitations[0]

    def _new_token(self, conn: sa.Connection, name: str, now: float) -> str:
        token = secrets.token_urlsafe(32)
        conn.execute(join_tokens.insert().values(token_hash=hash_token(token), name=name, created_at=now))
        return token

    def _require(self, conn: sa.Connection, name: str) -> Person:
        row = conn.execute(
            sa.select(people.c.name, people.c.role, people.c.email).where(people.c.name == name)
        ).one_or_none()
        if row is None:
            raise RosterError("unknown_person", name=name)
        return Person(row.name, Role(row.role), row.email)

    def revoke(self, name: str) -> int:
        """Revoke every live join link of a person (they are signed out at their next page); returns how many."""
        with write_transaction(self.engine) as conn:
            self._require(conn, name)
            return conn.execute(
                join_tokens.update()
                .where(join_tokens.c.name == name, join_tokens.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            ).rowcount

    def reissue(self, name: str) -> Invitation:
        """A new join link for a person; their previous links stop working."""
        now = time.time()
        with write_transaction(self.engine) as conn:
            person = self._require(conn, name)
            conn.execute(
                join_tokens.update()
                .where(join_tokens.c.name == name, join_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return Invitation(person, self._new_token(conn, name, now), created=False)

    def resolve(self, token: str) -> Person | None:
        """The person a join token signs in, or None for a forged, mistyped or revoked token."""
        if not token or len(token) > 200:
            return None
        query = (
            sa.select(people.c.name, people.c.role, people.c.email)
            .join(join_tokens, join_tokens.c.name == people.c.name)
            .where(join_tokens.c.token_hash == hash_token(token), join_tokens.c.revoked_at.is_(None))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else Person(row.name, Role(row.role), row.email)
