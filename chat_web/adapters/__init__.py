"""Implementations of the ports, each named after what it sits on."""
