"""Which sessions run in this process: the account manager, and the scheduler that places
accounts on nodes."""
