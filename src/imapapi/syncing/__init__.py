"""The sync loop of one account: watches the server, asks the pure sync/ for the changes,
enriches and stores them as events."""
