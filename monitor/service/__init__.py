"""The operations an operator performs, in one place for the CLI, the HTTP API and the console.

Imports go down only: ``settings``, ``store``, ``deliver``, ``match``, ``parse``, ``text`` and
``records``; never ``app`` or ``cli``, which call it.
"""
