"""Filling (loading) stations: intake checks and the cross-checks of filling records."""
