"""NATS and JetStream: connection, stream declaration, publishing, durable consumers."""

from guificloud.bus.connection import Bus

__all__ = ["Bus"]
