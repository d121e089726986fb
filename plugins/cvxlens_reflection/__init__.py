"""cvxlens built-in plugin 'reflection' (being written; registers nothing yet)."""
