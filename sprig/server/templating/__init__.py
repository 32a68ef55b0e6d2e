"""Jinja templates with limits: a sandbox that refuses, before computing, what would freeze
or exhaust the process (huge ranges, numbers, strings; too many loop iterations or calls;
too much output; too long), and a process pool that renders untrusted templates with a hard
stop (a killed process) and a memory cap.

This package imports only the standard library and jinja2 (with relative imports), so a
worker process loads it by path without importing the rest of Sprig.
"""
