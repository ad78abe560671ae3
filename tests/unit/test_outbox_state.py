from __future__ import annotations

import pytest

from chat_web.state.outbox import is_loopback


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("127.0.0.1", True),
        ("127.0.0.9", True),
        ("::1", True),
        ("192.168.1.20", False),
        ("10.0.0.1", False),
        ("", False),
        ("not-an-address", False),
    ],
)
def test_the_dev_outbox_answers_only_loopback_clients(address, shown):
    assert is_loopback(address) is shown
