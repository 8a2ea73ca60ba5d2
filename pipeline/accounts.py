"""Accounts: creating users, checking passwords (argon2), roles and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import ClinexError, NotFound
from .models import Role, User

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise ClinexError(f"{email[:80]!r} is not an email address.")
    return email


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ClinexError(f"Unknown role {role!r}; roles are {', '.join(r.value for r in Role)}.") from None


def create_user(session: Session, email: str, name: str, role: str = "listener",
                password: str | None = None) -> tuple[User, str]:
    """Add an account; returns it with its password (generated when none is given).

    Raises ClinexError for a bad email, a taken email, an unknown role or a short password.
    """
    email = normalize_email(email)
    if find_user(session, email):
        raise ClinexError(f"An account for {email} already exists.")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD:
        raise ClinexError(f"Passwords must be at least {MIN_PASSWORD} characters long.")
    name = " ".join((name or email.split("@")[0]).split())[:120]
    user = User(email=email, display_name=name, role=parse_role(role).value,
                password_hash=hash_password(password), must_change_password=generated,
                trusted=parse_role(role).rank >= Role.editor.rank)
    session.add(user)
    session.flush()
    return user, password


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"No account for {email}.")
    return user


def set_role(session: Session, email: str, role: str) -> User:
    user = get_user(session, email)
    user.role = parse_role(role).value
    return user


def count_editors(session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.role.in_([Role.editor.value, Role.admin.value])))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(session: Session, user: User) -> str:
    """A new API token for scripts; only its digest is stored, so it is shown once."""
    token = "cx_" + secrets.token_urlsafe(32)
    user.api_token_hash = token_digest(token)
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    user = session.scalars(select(User).where(User.api_token_hash == token_digest(token))).first()
    return user if user and user.active else None
