"""cvxlens built-in plugin 'path3' (being written; registers nothing yet)."""
