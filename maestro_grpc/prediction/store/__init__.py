"""The prediction context's store: all of its SQL, and the only code that touches its tables."""
