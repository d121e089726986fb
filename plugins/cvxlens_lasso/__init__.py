"""cvxlens built-in plugin 'lasso' (being written; registers nothing yet)."""
