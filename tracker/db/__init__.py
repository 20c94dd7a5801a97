"""The database, the one owner of PostgreSQL: the pool, models and migrations, and the
queries, one module per table or concern (offsets, states, positions, violations, ...).
Nothing outside tracker/db holds SQL."""
