"""Topics: the rule language, matching a text against a topic, explaining a topic in plain
words, and the summary of a matched article. Pure functions.

May import ``text`` and the records (``records``, ``triggers``); not ``fetch``, nothing above.
"""
