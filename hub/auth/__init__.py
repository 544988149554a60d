"""Sign-in: passwords, emailed sign-in links, password reset, roles and permissions."""
