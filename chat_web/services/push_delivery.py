"""One push to one browser, at most once: claim it, send it, read the push service's answer.

Both the in-process queue and the `send-push` worker call `deliver`; neither knows the other.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from chat_web.domain.push import PermanentPushError, PushJob, PushServiceDown, TransientPushError
from chat_web.ports import Clock, PushRepo, PushSender

log = logging.getLogger(__name__)

GONE = (404, 410)  # the subscription expired or the browser unsubscribed: forget it


class Outcome(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"  # another worker, or an earlier copy of this job, has it
    GONE = "gone"


class PushDelivery:
    def __init__(self, subscriptions: PushRepo, sender: PushSender, clock: Clock):
        self._subscriptions = subscriptions
        self._sender = sender
        self._clock = clock

    async def deliver(self, job: PushJob) -> Outcome:
        """Send the push unless it went already; TransientPushError: try again later (the
        claim is given back); PermanentPushError: never (the claim stays)."""
        if not await self._subscriptions.claim(job.message_id, job.subscription_id, self._clock.now()):
            return Outcome.DUPLICATE
        try:
            status = await self._sender.send(job)
        except PushServiceDown as exc:
            await self._subscriptions.release(job.message_id, job.subscription_id)
            raise TransientPushError(f"push service unreachable: {exc}") from exc
        if 200 <= status < 300:
            return Outcome.SENT
        if status in GONE:
            await self._subscriptions.drop(job.subscription_id)
            log.info("push subscription %s is gone (%d): dropped", job.subscription_id, status)
            return Outcome.GONE
        if status == 429 or status >= 500:
            await self._subscriptions.release(job.message_id, job.subscription_id)
            raise TransientPushError(f"push service answered {status}")
        raise PermanentPushError(f"push service refused the push: {status}")
