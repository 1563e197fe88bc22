"""The Flask side of the web server: sign-in, access control, security headers, health checks."""
