"""syscount top: the live view (a pure view model, keys, frames, the terminal; docs/top.md)."""
