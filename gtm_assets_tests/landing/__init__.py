"""Landing files into the raw zone: bad input, GA4 exports."""
