"""The programme office's side: review queue, revocation, the registry in the browser, CSV import, users."""
