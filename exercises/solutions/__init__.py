"""Reference solutions: each imports its skeleton's scaffolding and writes the missing functions."""
