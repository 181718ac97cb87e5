"""Recovery codes: ten one-time codes that stand in for the authenticator when the phone is
lost, and an owner's reset of a member's second factor.

Only a keyed hash of each code is stored (HMAC-SHA256 under a key derived from SECRET_KEY):
a code carries 50 random bits, so a slow password hash would add nothing but a second's
wait per sign-in, while the key keeps a copy of the table useless on its own. Codes are
shown once, when two-factor sign-in is turned on or the codes are made anew (which voids
the old ones); each works once.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from dashboard.audit import audit_record
from dashboard.models import Membership, RecoveryCode, SecondFactorReset, TotpDevice

CODE_COUNT = 10
# No 0/o, 1/l/i: a code copied from paper by hand should not be misread.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUP, GROUPS = 5, 2  # "abcde-fghjk": 10 characters, about 50 bits
HMAC_SALT = "hashwatch.recovery-code"


def normalize(code: str) -> str:
    """What was typed, without spaces, dashes and case: a code reads the same however it is
    copied."""
    return "".join(ch for ch in code.lower() if ch.isalnum())


def looks_like_recovery_code(code: str) -> bool:
    """A recovery code, not an authenticator's six digits."""
    typed = normalize(code)
    return len(typed) == GROUP * GROUPS and all(ch in ALPHABET for ch in typed)


def code_hash(code: str) -> str:
    return salted_hmac(HMAC_SALT, normalize(code), algorithm="sha256").hexdigest()


def new_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUP * GROUPS))
    return "-".join(chars[i:i + GROUP] for i in range(0, len(chars), GROUP))


@transaction.atomic
def recovery_codes_issue(*, user: Any) -> list[str]:
    """Void the user's codes and make CODE_COUNT new ones; returns them in clear, to be shown
    once and never again."""
    RecoveryCode.objects.filter(user_id=user.pk).delete()
    codes = [new_code() for _ in range(CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user_id=user.pk, code_hash=code_hash(code)) for code in codes])
    return codes


def recovery_code_use(*, user: Any, code: str) -> bool:
    """Spend one of the user's unused codes. A conditional update: two requests racing with
    the same code cannot both win."""
    if not looks_like_recovery_code(code):
        return False
    return RecoveryCode.objects.filter(
        user_id=user.pk, code_hash=code_hash(code), used_at__isnull=True
    ).update(used_at=timezone.now()) == 1


def recovery_codes_left(*, user: Any) -> int:
    return RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()


def second_factor_remove(*, user: Any) -> None:
    """The authenticator and every recovery code go together: codes without the
    authenticator they back up would be a second password."""
    TotpDevice.objects.filter(user_id=user.pk).delete()
    RecoveryCode.objects.filter(user_id=user.pk).delete()


@transaction.atomic
def member_second_factor_reset(
    *, membership: Membership, actor: Any, request: HttpRequest | None = None
) -> None:
    """An owner's answer to a member who lost the phone: the member signs in with the
    password alone once more, is told why, and sets two-factor sign-in up again (a team that
    requires it sends them straight to the setup page)."""
    user = membership.user
    second_factor_remove(user=user)
    SecondFactorReset.objects.update_or_create(
        user=user, defaults={"team": membership.team, "reset_by": actor})
    audit_record(team=membership.team, actor=actor, action="member.2fa_reset",
                 target=user.get_username(), detail={"user_id": user.pk}, request=request)


def second_factor_reset_take(*, user: Any) -> SecondFactorReset | None:
    """The reset to tell the user of at sign-in, once: it is gone after this call."""
    reset = SecondFactorReset.objects.select_related("team", "reset_by").filter(user_id=user.pk).first()
    if reset is not None:
        reset.delete()
    return reset
