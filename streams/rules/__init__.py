"""The rules: pure functions of (vehicle state, fixes, geofences, waybills) -> (state, events)."""
