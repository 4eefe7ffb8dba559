"""The `specser` command line."""
