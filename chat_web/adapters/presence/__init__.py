"""presence adapters."""
