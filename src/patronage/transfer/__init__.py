"""Data in and out (issue 13): bulk import and export of a customer list, and mirroring a HubRise-compatible API."""
