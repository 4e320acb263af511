"""The box agent: runs on a community box, keeps it at the state the provisioner wants.

It fetches its desired state over HTTP on every (re)connect, on command and periodically;
checks the platform image's signature, downloads it into a cache keyed by digest and
verifies its bytes; starts it through a driver (``lxc`` or ``simulated``); runs the
slivers of its desired state along Community-Lab's ladder (:mod:`guificloud_agent.slivers`);
reports every state change to JetStream and heartbeats with host metrics over core NATS.
Many agents can run in one process (:mod:`guificloud_agent.fleet`).
"""
