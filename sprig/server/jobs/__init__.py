"""Durable background jobs: rows in the ``jobs`` table, claimed and run by workers."""
