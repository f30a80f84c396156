"""Per-member flood control: a token bucket kept on the member's row (so that several
instances share it).

A member may send `burst` messages at once and then one every `refill_seconds`. One who
empties the bucket hears "请稍后再发" once and is set aside for `cooldown` seconds; other members
are not slowed. In a consultation the bucket is larger (members type in bursts there, and a
burst reaches staff as one batched relay: bot.consultations).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import Member


@dataclass(frozen=True, slots=True)
class FloodRule:
    burst: float = 12.0
    refill_seconds: float = 2.0
    cooldown: timedelta = timedelta(seconds=30)


class Verdict:
    ALLOW = "allow"
    WARN = "warn"  # just emptied: tell the member once
    DROP = "drop"  # cooling down: say nothing


def check(member: Member, now: datetime, rule: FloodRule, *, scale: float = 1.0) -> str:
    """Take one message from the member's bucket (changing the member row)."""
    if member.flood_until is not None and now < member.flood_until:
        return Verdict.DROP
    burst = rule.burst * scale
    tokens = burst if member.flood_tokens is None else member.flood_tokens
    if member.flood_at is not None:
        tokens = min(burst, tokens + (now - member.flood_at).total_seconds() / rule.refill_seconds)
    member.flood_at = now
    if tokens >= 1:
        member.flood_tokens = tokens - 1
        member.flood_until = None
        return Verdict.ALLOW
    member.flood_tokens = burst / 2  # after the cool-down, half a bucket
    member.flood_until = now + rule.cooldown
    return Verdict.WARN
