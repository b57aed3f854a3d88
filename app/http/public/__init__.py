"""Routes outside the Twitter API surfaces: CDN-style delivery and health."""
