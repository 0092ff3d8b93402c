"""Sending mail: the submission queue (what /submit accepts) and the worker that delivers it
over SMTP and stores the copy in Sent."""
