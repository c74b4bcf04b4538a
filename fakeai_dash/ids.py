"""Every component id in one place, grouped by the seed component that owns it."""

from __future__ import annotations


class Page:
    LOCATION = "url"
    INTERVAL = "refresh-interval"
    API_BANNER = "api-banner"
    API_STATUS = "api-status-store"


class Header:
    AUTO_REFRESH = "auto-refresh-switch"
    REFRESH = "refresh-button"
    CREATE = "create-job-button"
    SEARCH = "job-search"
    STATUS_FILTER = "status-filter"
    STATS = "header-stats"


class JobsList:
    STORE = "jobs-store"
    SIGNATURE = "jobs-signature-store"
    GRID = "jobs-grid"
    EMPTY = "jobs-empty"
    COUNT = "jobs-count"
    # Written by any callback that changed a job (create, cancel): refetch the list at once.
    REFRESH_SIGNAL = "jobs-refresh-signal"


class JobDetails:
    CONTAINER = "job-details"
    SELECTED = "selected-job-store"
    STORE = "job-detail-store"


class CreateJob:
    MODAL = "create-job-modal"
    BODY = "create-job-body"
