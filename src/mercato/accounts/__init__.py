"""Accounts and access: users, customer organisations, their host instances, memberships and API tokens."""
