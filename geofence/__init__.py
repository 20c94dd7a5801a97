"""Geofences: the model, GeoJSON import and validation, coordinate systems. Pure: no I/O."""
