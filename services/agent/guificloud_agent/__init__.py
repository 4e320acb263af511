"""The box agent: runs on a community box, keeps it at the state the provisioner wants.

It fetches its desired state over HTTP on every (re)connect, on command and periodically;
downloads and verifies the platform image into a cache keyed by digest; starts it through a
driver; reports every state change to JetStream and heartbeats with host metrics over core
NATS. Many agents can run in one process (:mod:`guificloud_agent.fleet`).
"""
