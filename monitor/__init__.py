"""monitor: a news-monitoring daemon that alerts once per story on a topic."""

__version__ = "0.1.0"
