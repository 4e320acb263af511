"""Test support shared by every service's tests: real servers, isolation, service processes."""
