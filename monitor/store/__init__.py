"""Storage: the schema, migrations and one repository per concern (feeds, articles,
stories, outbox, endpoints, digests, views, status, retention) behind the ``Store`` facade.

May import ``deliver``, ``parse``, ``stories`` and the layers below; never ``settings``, ``app``
or ``cli``.
"""
