"""The SMART on FHIR pathway app (docs/smart-app.md): launched from a card's `smart` link.

No Flask here: the launch protocol (discovery, authorization code with PKCE, token exchange),
the server-side session store, the bridge to the hook pipeline and the page's view model.
The routes are in `cds_service.web.smart_app`.
"""
