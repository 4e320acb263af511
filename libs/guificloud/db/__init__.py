"""Async SQLAlchemy 2 on PostgreSQL: one schema and one Alembic history per service."""
