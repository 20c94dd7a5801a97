"""The emergency bureau's incident desk, its pure core: the hazard catalogue (the ERG
data file with its edition, plus the bureau's own figures) and the zones of an incident.
No I/O beyond reading the shipped data file."""
