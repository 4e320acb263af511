"""Shared code of guifi-cloud: contracts, bus, outbox, database, settings, logging, fixtures.

Imported by the services and the CLI, never run on its own.
"""
