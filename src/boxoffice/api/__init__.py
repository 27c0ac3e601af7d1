"""The HTTP layer: FastAPI dependencies, the JSON response, request parsing, error
handlers and middleware. Routes (each slice's ``routes.py``) use it; nothing below
HTTP may import it (import-linter contract in pyproject.toml)."""
