"""The embedded send-push (adapters/push/inprocess.py): retried with backoff, then given up."""

from __future__ import annotations

import asyncio

from chat_web.adapters.mail.topology import RetryPolicy
from chat_web.adapters.push.inprocess import InProcessPushQueue
from chat_web.domain.push import PushJob, TransientPushError
from chat_web.services.push_delivery import Outcome

JOB = PushJob("m1", "s1", "u1", "https://push.example/s1", "k", "a", {"title": "Ann", "body": "hi"})


class FlakyDelivery:
    def __init__(self, failures: int):
        self.failures = failures
        self.tries = 0
        self.done = asyncio.Event()

    async def deliver(self, job: PushJob):
        self.tries += 1
        if self.tries <= self.failures:
            raise TransientPushError("push service down")
        self.done.set()
        return Outcome.SENT


async def test_a_failed_push_is_tried_again_until_it_goes():
    delivery = FlakyDelivery(failures=2)
    queue = InProcessPushQueue(delivery, RetryPolicy(max_attempts=5, base_seconds=0.001, max_seconds=0.01))
    await queue.publish([JOB])
    await asyncio.wait_for(delivery.done.wait(), 10)
    assert delivery.tries == 3
    await queue.close()


async def test_a_push_that_keeps_failing_is_given_up_after_the_attempts():
    delivery = FlakyDelivery(failures=10**6)
    queue = InProcessPushQueue(delivery, RetryPolicy(max_attempts=3, base_seconds=0.001, max_seconds=0.01))
    await queue.publish([JOB])
    while delivery.tries < 3:
        await asyncio.sleep(0.005)
    # The worker handled the third failure before it let this task run: nothing is left.
    assert queue.pending == 0
    assert delivery.tries == 3
    await queue.close()
