"""The database: models, migrations, the connection pool and position partitions."""
