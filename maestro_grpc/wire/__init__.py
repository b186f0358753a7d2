"""What every context's wire layer shares: proto conversions, page tokens, lazy servicers."""
