"""The aiohttp application: one module per resource, one `setup_*` per concern."""
