"""Data only: makes resources/catalog a package so setuptools installs its CSVs (package-data)."""
