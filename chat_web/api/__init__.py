"""REST API under /api/v1: parse, call a service, map errors. No logic of its own."""

PREFIX = "/api/v1"  # every route of the API; the routers carry it, so metrics see whole templates
