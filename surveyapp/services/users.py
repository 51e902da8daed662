"""Create user accounts, with the password policy every new password must meet."""

from __future__ import annotations

from sqlalchemy import select, update

from ..extensions import db
from ..models import ROLES, Locality, User

#: NIST SP 800-63B (2017), 5.1.1.2: at least 8 characters, checked against a list of
#: commonly used or expected passwords, nothing else (no composition rules).
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

#: Passwords found at the top of published leak lists (English and Chinese sites), and the
#: obvious ones for this application; compared case-insensitively.
COMMON_PASSWORDS = frozenset(
    """
password password1 password12 password123 passw0rd p@ssw0rd p@ssword pa55word
12345678 123456789 1234567890 0123456789 87654321 98765432 11111111 00000000 88888888
66666666 99999999 12341234 11223344 12121212 123123123 147258369 159357258 741852963
qwertyui qwertyuiop qwerty123 qwerty12 1qaz2wsx 1q2w3e4r 1q2w3e4r5t qazwsxedc zaq12wsx
asdfghjk asdfghjkl zxcvbnm1 abcd1234 abc12345 abcdefgh aaaaaaaa a1234567 a12345678
iloveyou iloveyou1 woaini1314 woaini520 5201314520 13145200 aini1314 woaini123
sunshine princess football baseball superman batman123 starwars dragon12 monkey12
letmein1 welcome1 welcome123 trustno1 whatever changeme changeme1 secret123 admin123
admin1234 administrator root1234 test1234 testtest guest123 default1 master12
computer internet michael1 jennifer shadow12 charlie1 liverpool chelsea1 arsenal1
survey123 surveyapp surveyapp1 survey2026 enumerator official manager1 manager123
""".split()
)


class UserError(Exception):
    """The account cannot be created as asked; the message says why."""


def password_problem(password: str, username: str = "") -> str | None:
    """Return why ``password`` may not be used (for ``username``), or None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    lowered = password.lower()
    name = username.lower()
    if name and (
        lowered == name
        or lowered == name[::-1]
        or (lowered.startswith(name) and lowered[len(name) :].isdigit())
        or (lowered.endswith(name) and lowered[: -len(name)].isdigit())
    ):
        return "the password must not be the user name (or the user name with digits)"
    if lowered in COMMON_PASSWORDS:
        return "this password is among the most commonly used ones; choose another"
    if len(set(password)) == 1:
        return "a password of one repeated character is too easy to guess"
    return None


def create_user(
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    locality_code: str | None = None,
) -> User:
    if role not in ROLES:
        raise UserError(f"unknown role '{role}'; choose one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise UserError("a user name has 1 to 64 characters")
    problem = password_problem(password, username)
    if problem:
        raise UserError(problem)
    if db.session.scalar(select(User).where(User.username == username)):
        raise UserError(f"user '{username}' already exists")
    locality = None
    if locality_code:
        locality = db.session.scalar(select(Locality).where(Locality.code == locality_code))
        if locality is None:
            raise UserError(f"no locality with code '{locality_code}'")
    elif role == "official":
        raise UserError("an official needs a jurisdiction: give --locality CODE")
    user = User(
        username=username, role=role, display_name=display_name or username, locality=locality
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def revoke_sessions(user: User, *, commit: bool = True) -> None:
    """End every login session of ``user``, on every device, at once."""
    # One UPDATE adding one: two revocations at the same time both take effect.
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["session_generation"])
    if commit:
        db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Enable or disable ``user``; disabling ends their sessions (their API tokens stop
    working too: ``fieldwork.tokens.user_for_token`` admits only active users)."""
    user.active = active
    revoke_sessions(user, commit=False)
    db.session.commit()


def set_password(user: User, password: str, *, temporary: bool = False) -> None:
    """Give ``user`` a new password and end their sessions. A ``temporary`` password (an
    administrator's reset) must be changed at the next login."""
    problem = password_problem(password, user.username)
    if problem:
        raise UserError(problem)
    user.set_password(password)
    user.must_change_password = temporary
    revoke_sessions(user, commit=False)
    db.session.commit()
