"""WSGI entry point (``gunicorn app:app``) and the ``flask --app app`` target."""

from cognova import create_app

app = create_app()
