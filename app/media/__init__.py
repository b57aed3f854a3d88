"""Media after upload: views handed to the edge, metadata (alt text), delivery lookups
(by storage key, never by path) and subtitle tracks. Never imports ``app.http``."""
