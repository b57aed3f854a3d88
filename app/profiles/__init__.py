"""Profile images and banners: build, swap, look up. Never imports ``app.http``."""
