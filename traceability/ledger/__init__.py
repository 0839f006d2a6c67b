"""The public batch ledger: a pure core (entries, RFC 9162 Merkle proofs, C2SP checkpoints), its tables, services,
API and commands. May import: the shared modules; its edge (views, commands) also stamps."""
