"""Pre-generating a whole site (``tts-service crawl``): its pages fetched politely over HTTP, each stored as
the embedded toolbar will send it, and its audio made before the first reader comes.

``robots`` (what a site allows), ``links`` (where to go next: links, sitemaps, the scope), ``fetcher`` (the
polite HTTP client), ``crawler`` (the walk over a site) and ``pages`` (each page stored, its audio made).
"""
