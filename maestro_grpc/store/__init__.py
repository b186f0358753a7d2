"""What every context's store shares: engines, the MetaData, dialects, keyset pages, request ids."""
