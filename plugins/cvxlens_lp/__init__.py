"""cvxlens built-in plugin 'lp' (being written; registers nothing yet)."""
