"""Slices and slivers: placement, desired state for boxes, reports, reconciliation."""
