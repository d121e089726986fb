"""cvxlens built-in plugin 'meanfield' (being written; registers nothing yet)."""
