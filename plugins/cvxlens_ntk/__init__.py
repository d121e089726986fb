"""cvxlens built-in plugin 'ntk' (being written; registers nothing yet)."""
