"""Implementations of the ports, one folder per port, each named after what it sits on:
storage/ (memory, sql, mongo), auth/ (OTP store and limits: memory, redis),
fanout/ (inprocess, redis), mail/ (inprocess, amqp; smtp and outbox senders)."""
