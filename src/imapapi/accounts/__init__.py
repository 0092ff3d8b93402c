"""What an account is: its configuration and stored form, its status, and the registry."""
