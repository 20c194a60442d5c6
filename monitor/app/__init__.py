"""The running program: the pipeline that orchestrates the stages, the daemon and its jobs,
resources opened at start-up, the HTTP server, metrics and logs.

May import every stage, the store and ``settings``; never ``cli``.
"""
