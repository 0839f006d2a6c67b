"""Accounts: users and their roles, argon2id passwords, login with lockout, the `users` command.

Owns models, services (session first, never commit), forms, guards (the web edge's role checks), views for
login and logout, and the CLI. May import: audit, registry (a producer user's producer), the shared modules.
"""
