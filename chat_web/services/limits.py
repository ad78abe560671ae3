"""Abuse limits: how many of an action one client, account or user may take per window.

Counted on the RateLimiter port (Redis when configured, else in process). An action passes
all of its limits or none: when one refuses, the hits already taken for it are given back,
so only actions that happened count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from chat_web.domain import RateLimited
from chat_web.ports import RateLimiter


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class AbuseLimits:
    """One Limit per setting of chat_web/config.py (LIMIT_*), where the defaults live."""

    codes_per_client: Limit  # mail bombing from one network (/24, /64)
    codes_total: Limit  # the site's last-resort ceiling, above what 32 networks can ask for
    codes_per_account: Limit  # one mailbox's codes per day, counted per network
    verifies_per_client: Limit  # guessing across accounts, per network
    messages_burst: Limit
    messages_sustained: Limit
    searches: Limit  # walking the user directory
    typing: Limit  # typing signals (the page sends one every 2 s at most)
    # New groups and direct chats one user starts (each names people without their consent).
    chats_created: Limit = Limit(10, timedelta(minutes=1))


@dataclass(frozen=True, slots=True)
class Check:
    """One limit applied to one key; `refusal` says what happened, `{seconds}` when it ends."""

    key: str
    limit: Limit
    refusal: str


class LimitGate:
    def __init__(self, limiter: RateLimiter):
        self._limiter = limiter

    async def check_all(self, *checks: Check) -> list[str]:
        """Count a hit on each; RateLimited (hits given back) if one is over. The keys taken."""
        taken: list[str] = []
        for check in checks:
            wait = await self._limiter.acquire(check.key, check.limit.count, check.limit.window)
            if wait > 0:
                await self.give_back([*taken, check.key])
                seconds = max(1, math.ceil(wait))
                raise RateLimited(check.refusal.format(seconds=seconds), seconds)
            taken.append(check.key)
        return taken

    async def give_back(self, keys: list[str]) -> None:
        """The action these hits were for did not happen."""
        for key in reversed(keys):
            await self._limiter.release(key)


class TabLimits:
    """Limits on what a browser tab asks for that no service counts: paging and jumping
    through a chat's history (each a storage read and a re-sent window). Per user, so a
    user's tabs share them."""

    def __init__(self, limiter: RateLimiter, paging: Limit):
        self._gate = LimitGate(limiter)
        self._paging = paging

    async def page(self, user_id: str) -> None:
        """Count one page or jump of `user_id`; RateLimited past the limit."""
        await self._gate.check_all(
            Check(f"paging:{user_id}", self._paging, "Too many pages asked for; try again in {seconds} s.")
        )
