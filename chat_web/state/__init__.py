"""Reflex states: thin; they read input, call a service and set vars."""
