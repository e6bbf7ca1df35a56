"""The OAuth 2.0 authorisation server (SPEC §10): login, consent, codes, tokens and revocation."""
