"""Command groups of the `datenschatz` command line, one module per area."""
