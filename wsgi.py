"""WSGI entry point: gunicorn 'wsgi:app' (settings come from the environment, see README)."""

from traceability import create_app

app = create_app()
