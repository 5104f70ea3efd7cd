"""Mercato's pages: server-rendered HTML (Jinja2 + htmx) for buyers, vendors and the operator, on the same
services as the API. ``site.install_pages`` mounts them; each audience's pages live in a module of their own."""
