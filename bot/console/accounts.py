"""Staff accounts: passwords, roles, deactivation, and signing in.

Passwords are kept as argon2id hashes (argon2-cffi's defaults, RFC 9106's
low-memory profile). Signing in answers the same, in the same time, whether
or not an account has the e-mail address: an unknown address is checked
against a dummy hash and throttled like an account. After
``FAILURES_BEFORE_LOCK`` wrong passwords in a row an address is locked for
1 minute, then 2, 4 … up to ``MAX_LOCK_MINUTES``, which makes guessing slow
without locking a person out for long.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import audit
from bot.console.models import ROLE_ADMIN, ROLES, StaffAccount
from bot.database.base import as_utc, utcnow

PASSWORD_MIN_LENGTH = 12
FAILURES_BEFORE_LOCK = 5
MAX_LOCK_MINUTES = 60
UNKNOWN_EMAILS_KEPT = 10_000  # so that a flood of made-up addresses cannot fill the memory
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SIGN_IN_REFUSED = "The e-mail address or the password is not right. Check both and try again."

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Staff:
    """An account as pages and commands show it: plain values, usable after its session closed."""

    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: dt.datetime
    last_sign_in_at: dt.datetime | None

    @classmethod
    def of(cls, account: StaffAccount) -> Staff:
        last = account.last_sign_in_at
        return cls(account.id, account.email, account.name, account.role, account.active, as_utc(account.created_at), as_utc(last) if last else None)


@dataclass(frozen=True)
class Problem:
    field: str  # the form field to fix: email, name, role, password
    message: str


class AccountProblems(ValueError):
    """What is wrong with a request to change accounts; nothing was changed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{problem.field}: {problem.message}" for problem in problems))
        self.problems = problems


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(email: str, password: str) -> str | None:
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"use at least {PASSWORD_MIN_LENGTH} characters (a few words together are easy to remember)"
    email = normalise_email(email)
    if password.strip().lower() in (email, email.split("@")[0]):
        return "use something other than the e-mail address"
    return None


def new_account_problems(session: Session, email: str, name: str, role: str, password: str) -> list[Problem]:
    """Every field of a new account to fix, each with how; empty when it can be created."""
    email, name, problems = normalise_email(email), name.strip(), []
    if not EMAIL.fullmatch(email) or len(email) > 254:
        problems.append(Problem("email", "write a whole e-mail address, like name@example.org"))
    elif by_email(session, email) is not None:
        problems.append(Problem("email", "an account with this e-mail address exists already: use another address"))
    if not name:
        problems.append(Problem("name", "write the person's name, as colleagues know them"))
    elif len(name) > 100:
        problems.append(Problem("name", "shorten the name to 100 characters or fewer"))
    if role not in ROLES:
        problems.append(Problem("role", f"choose one of: {', '.join(ROLES)}"))
    problem = password_problem(email, password)
    if problem:
        problems.append(Problem("password", problem))
    return problems


def create_account(session: Session, actor: StaffAccount | None, *, email: str, name: str, role: str, password: str) -> Staff:
    """Raises AccountProblems naming every field to fix; nothing is stored then."""
    email, name = normalise_email(email), name.strip()
    problems = new_account_problems(session, email, name, role, password)
    if problems:
        raise AccountProblems(problems)
    account = StaffAccount(email=email, name=name, role=role, password_hash=hash_password(password), active=True, failed_sign_ins=0)
    session.add(account)
    session.flush()
    audit.record(session, actor, "staff.create", f"staff {account.id}", {"email": email, "name": name, "role": role})
    return Staff.of(account)


def by_email(session: Session, email: str) -> StaffAccount | None:
    return session.execute(select(StaffAccount).where(StaffAccount.email == normalise_email(email))).scalar_one_or_none()


def by_id(session: Session, account_id: int) -> StaffAccount | None:
    return session.get(StaffAccount, account_id)


def list_accounts(session: Session) -> list[Staff]:
    """Active accounts first, then by name."""
    query = select(StaffAccount).order_by(StaffAccount.active.desc(), StaffAccount.name, StaffAccount.id)
    return [Staff.of(account) for account in session.execute(query).scalars()]


def any_account(session: Session) -> bool:
    return session.execute(select(StaffAccount.id).limit(1)).first() is not None


def _other_active_admins(session: Session, account: StaffAccount) -> int:
    # Locked, so that two admins demoting each other at once cannot leave none.
    others = select(StaffAccount.id).where(StaffAccount.role == ROLE_ADMIN, StaffAccount.active.is_(True), StaffAccount.id != account.id)
    return len(session.execute(others.with_for_update()).all())


def _keeps_an_admin(session: Session, account: StaffAccount, what: str) -> None:
    if account.role == ROLE_ADMIN and account.active and _other_active_admins(session, account) == 0:
        raise AccountProblems([Problem("role", f"{account.email} is the only active admin: make another account admin before you {what}")])


def change_role(session: Session, actor: StaffAccount | None, account_id: int, role: str) -> Staff:
    """Raises LookupError for no such account, AccountProblems for a role that cannot be given."""
    account = by_id(session, account_id)
    if account is None:
        raise LookupError(f"no staff account {account_id}")
    if role not in ROLES:
        raise AccountProblems([Problem("role", f"choose one of: {', '.join(ROLES)}")])
    if role == account.role:
        return Staff.of(account)
    if role != ROLE_ADMIN:
        _keeps_an_admin(session, account, "change this role")
    audit.record(session, actor, "staff.role", f"staff {account.id}", {"email": account.email, "from": account.role, "to": role})
    account.role = role
    session.flush()
    return Staff.of(account)


def deactivate(session: Session, actor: StaffAccount | None, account_id: int) -> Staff:
    """The account can no longer sign in; its sessions end at their next request. Its audit entries stay."""
    account = by_id(session, account_id)
    if account is None:
        raise LookupError(f"no staff account {account_id}")
    if not account.active:
        return Staff.of(account)
    if actor is not None and actor.id == account.id:
        raise AccountProblems([Problem("account", "you cannot deactivate your own account: ask another admin")])
    _keeps_an_admin(session, account, "deactivate it")
    account.active = False
    audit.record(session, actor, "staff.deactivate", f"staff {account.id}", {"email": account.email})
    session.flush()
    return Staff.of(account)


# --- signing in --------------------------------------------------------------------------------


def lock_after(failures: int, now: dt.datetime) -> dt.datetime | None:
    """When the failures in a row lock an address: 1 minute at the fifth, doubling with each further one."""
    if failures < FAILURES_BEFORE_LOCK:
        return None
    return now + dt.timedelta(minutes=min(MAX_LOCK_MINUTES, 2 ** (failures - FAILURES_BEFORE_LOCK)))


def locked_message(until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return f"Too many failed sign-ins with this e-mail address. Wait {minutes} minute{'s' if minutes != 1 else ''}, then try again."


class UnknownEmails:
    """Failed sign-ins for addresses no account has, counted in memory exactly as accounts count them."""

    def __init__(self, capacity: int = UNKNOWN_EMAILS_KEPT) -> None:
        self.capacity = capacity
        self._failures: OrderedDict[str, tuple[int, dt.datetime | None]] = OrderedDict()
        self._lock = threading.Lock()  # sign-ins are checked on worker threads

    def locked_until(self, email: str) -> dt.datetime | None:
        with self._lock:
            return self._failures.get(email, (0, None))[1]

    def failed(self, email: str, now: dt.datetime) -> None:
        with self._lock:
            failures = self._failures.pop(email, (0, None))[0] + 1
            self._failures[email] = (failures, lock_after(failures, now))
            while len(self._failures) > self.capacity:
                self._failures.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failures)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not any account's password")


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class SignIn:
    account: Staff | None  # None: refused
    refusal: str | None = None  # the same text whether or not the address has an account


def authenticate(session: Session, email: str, password: str, unknown: UnknownEmails, now: dt.datetime | None = None) -> SignIn:
    """Checks a sign-in; a refusal is returned, not raised, so that the failure it counts is committed."""
    now, email = now or utcnow(), normalise_email(email)
    account = session.execute(select(StaffAccount).where(StaffAccount.email == email).with_for_update()).scalar_one_or_none()
    if account is None:
        until = unknown.locked_until(email)
        if until is not None and until > now:
            return SignIn(None, locked_message(until, now))
        _verifies(_dummy_hash(), password)  # the time an account's check takes
        unknown.failed(email, now)
        return SignIn(None, SIGN_IN_REFUSED)
    if account.locked_until is not None and as_utc(account.locked_until) > now:
        return SignIn(None, locked_message(as_utc(account.locked_until), now))
    # A deactivated account is refused like a wrong password: the answer tells nothing about who has an account.
    if not _verifies(account.password_hash, password) or not account.active:
        account.failed_sign_ins += 1
        account.locked_until = lock_after(account.failed_sign_ins, now)
        if account.locked_until is not None:
            minutes = round((account.locked_until - now).total_seconds() / 60)
            audit.record(session, account, "staff.locked", f"staff {account.id}", {"failures": account.failed_sign_ins, "minutes": minutes})
        return SignIn(None, SIGN_IN_REFUSED)
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.failed_sign_ins, account.locked_until, account.last_sign_in_at = 0, None, now
    audit.record(session, account, "staff.sign_in", f"staff {account.id}")
    return SignIn(Staff.of(account))


def active_account(session: Session, account_id: int) -> Staff | None:
    """The signed-in person, read at every request: a deactivated account or a changed role counts at once."""
    account = by_id(session, account_id)
    return Staff.of(account) if account is not None and account.active else None

