"""Pure models against known truths: MMM, allocator, forecast, attribution, personas, creative."""
