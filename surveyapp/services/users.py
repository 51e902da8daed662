"""User accounts: create, change, disable, reset and revoke, with the password policy every
new password must meet. Used by the administrators' pages and the ``surveyapp users`` commands."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update

from ..errors import N_, Text, UserError
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


class AccountError(UserError):
    """An account cannot be changed as asked; the message (a :class:`Text`) says why, in the
    one wording the web pages and the command line show, translated where it is shown
    (``translated()``). ``code`` names the refusal for machines."""

    def __init__(self, message: str | Text, code: str = "") -> None:
        super().__init__(message)
        self.code = code


#: Why a password may not be used: code -> its wording.
PASSWORD_PROBLEMS = {
    "short": Text(N_("a password needs at least %(n)s characters"), n=MIN_PASSWORD_LENGTH),
    "long": Text(N_("a password has at most %(n)s characters"), n=MAX_PASSWORD_LENGTH),
    "username": Text(N_("the password must not be the user name (or the user name with digits)")),
    "common": Text(N_("this password is among the most commonly used ones; choose another")),
    "repeated": Text(N_("a password of one repeated character is too easy to guess")),
}


def password_problem_code(password: str, username: str = "") -> str | None:
    """Return the code (a key of PASSWORD_PROBLEMS) of why ``password`` may not be used."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "long"
    lowered = password.lower()
    name = username.lower()
    if name and (
        lowered == name
        or lowered == name[::-1]
        or (lowered.startswith(name) and lowered[len(name) :].isdigit())
        or (lowered.endswith(name) and lowered[: -len(name)].isdigit())
    ):
        return "username"
    if lowered in COMMON_PASSWORDS:
        return "common"
    if len(set(password)) == 1:
        return "repeated"
    return None


def password_problem(password: str, username: str = "") -> str | None:
    """Return why ``password`` may not be used (for ``username``), or None when it may."""
    code = password_problem_code(password, username)
    return str(PASSWORD_PROBLEMS[code]) if code else None


def check_password(password: str, username: str) -> None:
    """Refuse (AccountError) a new ``password`` for ``username`` that the policy does not allow."""
    code = password_problem_code(password, username)
    if code:
        raise AccountError(PASSWORD_PROBLEMS[code], "password_" + code)


def check_role(role: str) -> None:
    """Refuse (AccountError) a role that is not one of ROLES."""
    if role not in ROLES:
        raise AccountError(Text(N_("unknown role '%(role)s'"), role=role), "role")


def check_username(username: str) -> None:
    """Refuse (AccountError) a user name that is empty, longer than 64 characters or has
    spaces around it."""
    if not username or len(username) > 64 or username != username.strip():
        raise AccountError(
            Text(N_("a user name has 1 to 64 characters, without spaces around them")), "username"
        )


def check_display_name(display_name: str) -> None:
    """Refuse (AccountError) a displayed name longer than 120 characters."""
    if len(display_name) > 120:
        raise AccountError(Text(N_("a displayed name has at most 120 characters")), "display_name")


def unknown_locality(code: str) -> AccountError:
    """The refusal of a jurisdiction ``code`` that names no locality (to choose from)."""
    return AccountError(Text(N_("no locality with code '%(code)s'"), code=code), "unknown_locality")


def check_jurisdiction(role: str, locality_code: str | None) -> None:
    """Refuse (AccountError) an official without a jurisdiction."""
    if role == "official" and not locality_code:
        raise AccountError(
            Text(N_("an official needs a jurisdiction: choose a locality")), "needs_jurisdiction"
        )


def _locality(code: str | None, role: str) -> Locality | None:
    check_jurisdiction(role, code)
    if not code:
        return None
    locality = db.session.scalar(select(Locality).where(Locality.code == code))
    if locality is None:
        raise unknown_locality(code)
    return locality


def create_user(
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    locality_code: str | None = None,
    temporary: bool = False,
) -> User:
    """Create an account; a ``temporary`` password must be changed at the first login."""
    check_role(role)
    check_username(username)
    check_display_name(display_name)
    check_password(password, username)
    if db.session.scalar(select(User).where(User.username == username)):
        raise AccountError(
            Text(N_("user '%(username)s' already exists"), username=username), "exists"
        )
    locality = _locality(locality_code, role)
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        locality=locality,
        must_change_password=temporary,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_user(username: str) -> User:
    """The account named ``username`` (exactly), or AccountError."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(
            Text(N_("no user named '%(username)s'"), username=username), "unknown_user"
        )
    return user


def list_users() -> list[User]:
    """Every account: administrators first, then by role and name."""
    order = {role: i for i, role in enumerate(ROLES)}
    users = list(db.session.scalars(select(User)))
    return sorted(users, key=lambda u: (order.get(u.role, len(order)), u.username))


def describe(user: User) -> dict:
    """An account as plain data (``surveyapp users list --format json``)."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "locality": user.locality.code if user.locality else None,
        "active": user.active,
        "must_change_password": user.must_change_password,
        "created_at": user.created_at.isoformat(timespec="seconds") if user.created_at else None,
        "api_tokens": sum(1 for t in tokens_of(user) if t.revoked_at is None),
    }


def _other_active_admins(user: User) -> int:
    return len(
        db.session.scalars(
            select(User.id).where(User.role == "admin", User.active, User.id != user.id)
        ).all()
    )


def _keep_an_admin(user: User, *, role: str, active: bool) -> None:
    """Refuse the change that would leave no active administrator."""
    if user.role == "admin" and user.active and not (role == "admin" and active):
        if not _other_active_admins(user):
            raise AccountError(
                Text(
                    N_("'%(username)s' is the last active admin: make another admin first"),
                    username=user.username,
                ),
                "last_admin",
            )


def update_user(user: User, *, role: str, display_name: str, locality_code: str | None) -> User:
    """Change an account's role, jurisdiction and displayed name."""
    check_role(role)
    check_display_name(display_name)
    locality = _locality(locality_code, role)
    _keep_an_admin(user, role=role, active=user.active)
    user.role = role
    user.display_name = display_name.strip() or user.username
    user.locality = locality
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
    if not active:
        _keep_an_admin(user, role=user.role, active=False)
    user.active = active
    revoke_sessions(user, commit=False)
    db.session.commit()


def set_password(user: User, password: str, *, temporary: bool = False) -> None:
    """Give ``user`` a new password and end their sessions. A ``temporary`` password (an
    administrator's reset) must be changed at the next login."""
    check_password(password, user.username)
    user.set_password(password)
    user.must_change_password = temporary
    revoke_sessions(user, commit=False)
    db.session.commit()


#: Temporary passwords: no letters or digits that read alike (0/O, 1/l/I).
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def temporary_password() -> str:
    """A random password to give someone once (about 71 bits)."""
    while True:
        chosen = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
        password = "-".join(chosen[i : i + 4] for i in range(0, 12, 4))
        if password_problem_code(password) is None:
            return password


def reset_password(user: User) -> str:
    """Give ``user`` a temporary password (returned, to be handed over), to be changed at
    the next login; their sessions end."""
    password = temporary_password()
    set_password(user, password, temporary=True)
    return password


def change_own_password(user: User, current: str, new: str) -> None:
    """Change one's own password, proving the current one; other sessions end."""
    if not user.check_password(current):
        raise AccountError(Text(N_("the current password is wrong")), "wrong_current")
    if new == current:
        raise AccountError(Text(N_("the new password must differ from the current one")), "same")
    set_password(user, new)


def tokens_of(user: User) -> list:
    """The API tokens of ``user``, newest first (revoked ones included)."""
    from ..models.fieldwork import ApiToken

    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(user: User, token_id: int):
    """Revoke one of ``user``'s API tokens (no effect on one already revoked)."""
    from ..models.fieldwork import ApiToken

    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise AccountError(
            Text(
                N_("user '%(username)s' has no API token %(id)s"),
                username=user.username,
                id=token_id,
            ),
            "unknown_token",
        )
    if token.revoked_at is None:
        token.revoked_at = datetime.utcnow()
        db.session.commit()
    return token


def active_users(roles: tuple[str, ...]) -> list[User]:
    """The active accounts with one of ``roles``, by user name."""
    return list(
        db.session.scalars(
            select(User).where(User.role.in_(roles), User.active.is_(True)).order_by(User.username)
        )
    )
