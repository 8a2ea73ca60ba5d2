"""Password reset links: signed, time-limited, and single-use (they carry a fragment of the
current password hash, so they stop working once the password changes)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from pipeline.accounts import get_user, hash_password
from pipeline.errors import ClinexError
from pipeline.models import User
from pipeline.settings import Settings

from .context import web_context

RESET_MAX_AGE = 24 * 3600
_SALT = "clinex-password-reset"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def make_reset_token(user: User, secret_key: str) -> str:
    return _serializer(secret_key).dumps({"u": user.id, "h": user.password_hash[-12:]})


def user_for_reset_token(session: Session, token: str, secret_key: str) -> User:
    """The account a reset token is for. Raises ClinexError when it is forged, expired or used."""
    try:
        data = _serializer(secret_key).loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired:
        raise ClinexError("This reset link has expired; ask for a new one.") from None
    except BadSignature:
        raise ClinexError("This reset link is not valid; ask for a new one.") from None
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or user.password_hash[-12:] != data.get("h"):
        raise ClinexError("This reset link was already used or is no longer valid; ask for a new one.")
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.must_change_password = False


def reset_link(settings: Settings, user: User) -> str:
    return f"{settings.BASE_URL}/reset-password/{make_reset_token(user, settings.SECRET_KEY)}"


def issue_password_reset(email: str, settings: Settings | None = None) -> str:
    """The reset link for ``email`` (valid 24 h, once), for ``clinex users reset-password EMAIL``.

    Raises NotFound when there is no such account."""
    ctx = web_context(settings)
    with ctx.sessions() as session:
        return reset_link(ctx.settings, get_user(session, email))


def mail_reset_link(config: dict, to: str, link: str) -> bool:
    """Send the link when SMTP is configured (``SMTP_HOST`` in the Flask config); False otherwise.

    Raises OSError/SMTPException when the mail server refuses (the caller says so politely)."""
    host = config.get("SMTP_HOST")
    if not host:
        return False
    message = EmailMessage()
    message["Subject"] = "Reset your Clinical Exchange password"
    message["From"] = config.get("SMTP_FROM") or config["CLINEX"].OWNER_EMAIL
    message["To"] = to
    message.set_content(f"Open this link within 24 hours to choose a new password:\n\n{link}\n\n"
                        "If you did not ask for this, ignore this message.")
    with smtplib.SMTP(host, int(config.get("SMTP_PORT", 25)), timeout=20) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
        smtp.send_message(message)
    return True
