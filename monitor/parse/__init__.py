"""Reading what publishers send: feed documents (behind the XML entity guard), article pages,
canonical URLs and outlets. Pure functions over bytes and strings.

May import ``fetch``, ``match``, ``text`` and the records; not ``stories`` or ``deliver`` (its
siblings), nothing above.
"""
