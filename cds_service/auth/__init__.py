"""Authentication of the calling CDS Client (EHR) by its signed JWT. See docs/security.md.

    auth = Authenticator(settings, engine)
    claims = auth.authenticate(request.headers.get("Authorization"), audience=public_url_of_this_endpoint)
"""
from .errors import REASONS, AuthenticationFailed, TrustedClientsError
from .jwt_verifier import Authenticator

__all__ = ["Authenticator", "AuthenticationFailed", "TrustedClientsError", "REASONS"]
