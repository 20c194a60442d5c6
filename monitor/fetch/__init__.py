"""Fetching over HTTP: the address gate, bounded and polite fetches, each feed's schedule.

May import ``text`` and the records (``records``, ``triggers``); not ``match``, nothing above.
"""
