"""Accounts: users and their roles, password hashing, login with lockout, the `users` command."""
