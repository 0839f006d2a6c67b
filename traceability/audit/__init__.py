"""The audit log: who did what to which record, when, and the record before and after."""
