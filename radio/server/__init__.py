"""The HTTP face: the aiohttp app (app.py: streams, page, health, metrics), the JSON API
and its OpenAPI document, band completion's endpoint, request bodies and the web page.
"""
