"""The console (server-rendered HTML), the HTTP API under ``/api/v1`` and the Atom feeds of
alerts, mounted on the daemon's HTTP server, with their access control.

Imports go down only: ``monitor.service`` for every operation (no store queries here),
``settings`` and ``records``; never ``cli``.
"""
