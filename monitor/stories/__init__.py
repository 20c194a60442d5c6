"""Stories: the terms and fingerprints of an article, and the pure decision whether two
articles report one event. No I/O.

May import ``fetch``, ``match``, ``text`` and the records; not ``parse`` or ``deliver`` (its
siblings), nothing above.
"""
