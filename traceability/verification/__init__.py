"""Verification of scanned codes: verdicts and clone rules (pure), scans, reports, trust list and revocations.

Also the public audience: the pages a stamp opens and the JSON API (views.py), and the `verify` command. May
import: stamps, registry, audit, ledger and the shared modules; never printing or an audience package.
"""
