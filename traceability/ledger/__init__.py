"""The public batch ledger: entries, RFC 9162 Merkle proofs and C2SP checkpoints (pure: no Flask, no database)."""
