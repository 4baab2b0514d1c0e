"""Engines step the state one step at a time; each follows MODEL.md's order within a step."""
