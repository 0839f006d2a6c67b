"""Verification of scanned codes: verdicts, online checks, public pages and API."""
