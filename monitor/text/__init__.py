"""Plain text: HTML to text, sentences, tokens, clipping. The lowest layer: it imports nothing
from ``monitor`` but ``monitor.records``."""
