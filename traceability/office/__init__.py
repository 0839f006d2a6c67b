"""The programme office's pages (administrators and inspectors): review queue, batch decisions, registry, analytics.

Views only: each parses the request, calls one domain service, renders or redirects. May import the domain
packages and the shared web modules (forms, labels, web); never the producers' portal.
"""
