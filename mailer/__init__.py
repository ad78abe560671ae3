"""The mail worker process: RabbitMQ in, SMTP out.

It depends on chat_web (settings, the mail contract and senders in
chat_web.adapters.mail), never the reverse: the app owns the contract.
"""
