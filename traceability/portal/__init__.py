"""The producer's side: dashboard, batch requests, print-file downloads, activating and voiding stamps."""
