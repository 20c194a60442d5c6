"""The command line: argument parsing and the commands, each a thin face over the app.

The top layer: may import anything below it.
"""
