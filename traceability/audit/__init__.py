"""The audit log: who did what to which record, when, and the record before and after.

Every domain writes here through `services.record` inside its own transaction. Imports nothing of the other domains.
"""
