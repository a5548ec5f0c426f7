"""SCIM 2.0 provisioning at /scim/v2: the identity provider keeps the org in sync."""
