"""cvxlens built-in plugin 'colgen' (being written; registers nothing yet)."""
