"""Prometheus metrics and in-memory recent activity of one service (see `registry.py`)."""

from __future__ import annotations

from imapapi.metrics.activity import Activity, RecentEvent
from imapapi.metrics.registry import CONTENT_TYPE_LATEST, Metrics

__all__ = ["CONTENT_TYPE_LATEST", "Activity", "Metrics", "RecentEvent"]
