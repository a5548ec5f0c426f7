"""Identity providers: single sign-on (OpenID Connect, SAML 2.0) and SCIM provisioning."""
