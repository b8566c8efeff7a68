"""Vendored published schemas (GitHub REST and GraphQL) and the script that cuts the REST subset."""
