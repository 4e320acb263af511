"""``guificloud dev``: the whole system on one machine, no Docker."""
