"""The Eye's client for Django host sites: a middleware that records every request it serves.

Install this package on the host (it needs only Django and the standard library) and add
`the_eye_client.middleware.TheEyeMiddleware` to `MIDDLEWARE`; see README.md beside it.
"""

__version__ = "1.0.0"
