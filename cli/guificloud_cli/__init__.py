"""The ``guificloud`` command: runs the whole system for development, and talks to it."""
