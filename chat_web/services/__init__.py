"""Use cases: no Reflex, no drivers; everything outside comes in through ports."""
