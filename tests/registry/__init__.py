"""The Registry service through real servers on both stores, and its rules on their own."""
