"""Process entry points of the background workers: settings in, a running worker out."""
