"""What the API asks of a mailbox: listings, message reads and writes, folders, search,
account checks."""
