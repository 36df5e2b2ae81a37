"""Item models: read-only adapters over the result rows (and the catalog editor's table)."""
