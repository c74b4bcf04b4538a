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
    # One text input per form field (keys are job_request.FORM_FIELDS names); each input's
    # inline message is the FormFeedback with id f"{input id}-feedback".
    FIELDS = {
        "model": "create-job-model",
        "training_file": "create-job-training-file",
        "validation_file": "create-job-validation-file",
        "beta": "create-job-beta",
        "n_epochs": "create-job-n-epochs",
        "batch_size": "create-job-batch-size",
        "learning_rate_multiplier": "create-job-lr-multiplier",
        "suffix": "create-job-suffix",
        "seed": "create-job-seed",
    }
    METHOD = "create-job-method"
    METHOD_FEEDBACK = "create-job-method-feedback"
    BETA_ROW = "create-job-beta-row"
    MODEL_OPTIONS = "create-job-model-options"
    MODEL_HELP = "create-job-model-help"
    FILE_OPTIONS = "create-job-file-options"
    FILES_HELP = "create-job-files-help"
    UPLOAD = "create-job-upload"
    UPLOAD_REPORT = "create-job-upload-report"
    # The last validated upload: its DatasetReport dict plus filename and the new file id.
    DATASET = "create-job-dataset-store"
    ESTIMATE = "create-job-estimate"
    METADATA_ROWS = "create-job-metadata-rows"
    METADATA_ADD = "create-job-metadata-add"
    METADATA_FEEDBACK = "create-job-metadata-feedback"
    # Dict ids of one metadata row's parts: {"type": METADATA_KEY, "index": n}.
    METADATA_KEY = "create-job-metadata-key"
    METADATA_VALUE = "create-job-metadata-value"
    METADATA_REMOVE = "create-job-metadata-remove"
    API_ERROR = "create-job-api-error"
    SUBMIT = "create-job-submit"
    CANCEL = "create-job-cancel"
    # A fresh token per opening of the dialog: the server creates at most one job per token.
    TOKEN = "create-job-token"
