"""Widgets: thin bindings over plain data (knobs, deltas, layer views, details, telemetry, dialogs)."""
