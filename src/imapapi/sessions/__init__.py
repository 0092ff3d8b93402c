"""One AccountSession per account: its IMAP connections (all opened by one `Connector`), the
API's command pool and folder views, login limits, the protocol log."""
