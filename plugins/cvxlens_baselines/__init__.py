"""cvxlens built-in plugin 'baselines' (being written; registers nothing yet)."""
