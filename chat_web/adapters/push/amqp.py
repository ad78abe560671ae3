"""send-push on RabbitMQ: one message per push, for the push workers (`python -m mailer.push`)
to share (competing consumers); the same publisher and topology as send-otp."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chat_web.adapters.mail.amqp import AmqpPublisher
from chat_web.adapters.push.jobs import encode
from chat_web.domain.push import PushJob


class AmqpPushQueue(AmqpPublisher):
    def __init__(self, url: str, queue_name: str):
        super().__init__(url, queue_name, "push queue")

    async def publish(self, jobs: Sequence[PushJob]) -> None:
        await asyncio.gather(*(self.publish_body(encode(job)) for job in jobs))
