"""CNML, the Community Network Markup Language of guifi.net: reading its exports into the
registry and writing the registry back out in it."""
