"""Recordings of what programs called, and what is made from them (seccomp profiles)."""
