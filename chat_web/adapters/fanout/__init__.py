"""fanout adapters."""
