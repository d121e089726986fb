"""cvxlens built-in plugin 'hv' (being written; registers nothing yet)."""
