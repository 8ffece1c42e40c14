"""tts_service: Mandarin read-aloud (语音播报) and accessible publishing."""

__version__ = "0.1.0"
