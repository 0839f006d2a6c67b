"""Signed stamps: the token codec and signing (pure), keys and the key store, batches as ranges, their workflow.

Owns batch requests, decisions (approve, reject, revoke), activation and voiding by range, serials, exports and
the `batch`/`keys` commands. May import: registry, audit, ledger and the shared modules; never verification,
printing or an audience package.
"""
