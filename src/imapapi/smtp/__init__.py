"""The SMTP client: sessions with login and STARTTLS, and delivery of one message."""
