"""One AccountSession per account: its IMAP connections, the API's command pool and folder
views, login limits, the protocol log."""
