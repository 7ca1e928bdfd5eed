"""Ad-platform adapters (Meta Marketing API, Google Ads, TikTok Ads) and the one retried HTTP transport
they and the DSP push share."""
