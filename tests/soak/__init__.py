"""The consistency soak: plain IMAP clients change many accounts at random, and the webhook
stream imapapi sent must replay into exactly what the servers hold (see runner.py)."""
