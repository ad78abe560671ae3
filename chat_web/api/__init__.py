"""REST API under /api/v1: parse, call a service, map errors. No logic of its own."""
