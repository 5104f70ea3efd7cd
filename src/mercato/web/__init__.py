"""The HTTP edge: the FastAPI application, problem details and request-scoped dependencies."""
