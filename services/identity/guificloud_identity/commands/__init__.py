"""What callers do in the identity service, as functions of a unit of work.

Each command checks who may do it (raising ``Forbidden`` naming the missing role or right),
changes, emits its event and commits; the API and the CLI are thin layers over these.
"""
