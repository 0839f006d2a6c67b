"""The producers' pages: dashboard, batch requests, print-file downloads, activating and voiding stamps.

Views only, every route behind the producer role and scoped to the user's producer. May import the domain
packages and the shared web modules (forms, labels, web); never the office.
"""
