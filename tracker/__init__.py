"""hazmat-tracker: the application edge (API, CLI, database, local stack)."""
