"""Collectors read kernel maps and turn them into plain snapshots; they never format output."""
