"""Audio helpers: MP3 encoding and decoding."""
