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
    MODEL_FILTER = "model-filter"
    PERIOD_FILTER = "period-filter"
    # The absolute epoch the period filter stands for, fixed when the user picked the period.
    CREATED_AFTER = "created-after-store"
    PERIOD_CAPTION = "period-caption"
    CLEAR_FILTERS = "clear-filters"
    STATS = "header-stats"
    # The sign-in parts. SESSION holds what the browser may know of the signed-in user; other
    # components read it to hide the writes a viewer cannot make.
    USER_BOX = "header-user"
    SESSION = "auth-session-store"
    REFRESH_NOTE = "header-refresh-note"
    LANGUAGE_SWITCH = "language-switch"


class JobsList:
    STORE = "jobs-store"
    SIGNATURE = "jobs-signature-store"
    GRID = "jobs-grid"
    EMPTY = "jobs-empty"
    LOADING = "jobs-loading"
    LOADING_TEXT = "jobs-loading-text"
    GRID_WRAPPER = "jobs-grid-wrapper"
    # Header counts, computed on the server with the snapshot: small, unlike the job list.
    STATS = "jobs-stats-store"
    COUNT = "jobs-count"
    # Written by any callback that changed a job (create, cancel): refetch the list at once.
    REFRESH_SIGNAL = "jobs-refresh-signal"
    # {job id: [step, total steps]} of active jobs whose steps are known: patched into the rows.
    PROGRESS = "jobs-progress-store"


class JobDetails:
    CONTAINER = "job-details"
    AUDIT = "detail-audit"  # the job's audit trail under its header (JobAudit)
    SELECTED = "selected-job-store"
    STORE = "job-detail-store"
    # The part of STORE that a new training step leaves alone (the job, its checkpoints and
    # alerts, not its events): the panels showing only that read it, and are not redrawn per step.
    SUMMARY = "job-detail-summary-store"
    # {"job_id", "signature", "final"}: lets quiet ticks (and finished jobs) skip the work.
    SIGNATURE = "job-detail-signature-store"
    # Written after a cancel/pause/resume: the detail fetch runs at once, bypassing the cache.
    ACTION_SIGNAL = "job-action-signal-store"
    # {"pause": bool, "resume": bool} learned from 404/405 answers (session storage).
    ACTION_SUPPORT = "job-action-support-store"
    PLACEHOLDER = "job-details-placeholder"
    PLACEHOLDER_CARD = "job-details-placeholder-card"
    BODY = "job-details-body"
    HEADER = "job-details-header"
    JOB_ID = "detail-job-id"
    STATUS = "detail-status"
    MODEL = "detail-model"
    FINE_TUNED = "detail-fine-tuned-model"
    FINE_TUNED_COPY = "detail-fine-tuned-copy"
    META = "detail-meta"
    ERROR_BANNER = "detail-error-banner"
    CANCEL = "detail-cancel-button"
    PAUSE = "detail-pause-button"
    RESUME = "detail-resume-button"
    ACTION_HELP = "detail-action-help"
    CONFIRM_MODAL = "detail-cancel-confirm"
    CONFIRM_TEXT = "detail-cancel-confirm-text"
    CONFIRM_YES = "detail-cancel-confirm-yes"
    CONFIRM_NO = "detail-cancel-confirm-no"
    ACTION_RESULT = "detail-action-result"


class StatusTimeline:
    BODY = "status-timeline"
    ELAPSED = "status-timeline-elapsed"
    ETA = "status-timeline-eta"


class Hyperparameters:
    BODY = "hyperparameters"


class CostTracker:
    BODY = "cost-tracker"


class TrainingProgress:
    ZOOM = "training-progress-zoom-store"  # the charts' shared x range (zoom), step or seconds
    BAR = "training-progress-bar"
    BAR_TEXT = "training-progress-text"
    LOSS = "loss-graph"
    ACCURACY = "accuracy-graph"
    SMOOTHING = "smoothing-slider"
    LOG_Y = "log-scale-switch"
    X_AXIS = "x-axis-choice"
    # What the graphs currently draw (job, view, trace lengths): decides Patch vs rebuild.
    DRAWN = "training-progress-drawn-store"
    EXPORT = "metrics-export-button"
    DOWNLOAD = "metrics-download"
    CHARTS = "training-charts"
    MOUNTED = "training-charts-mounted"  # true once the graphs exist (lazy_graphs.py)
    NO_METRICS = "training-no-metrics"


class Checkpoints:
    BODY = "checkpoints"
    COUNT = "checkpoints-count"


class ModelComparison:
    BODY = "model-comparison"


class JobComparison:
    PICKER = "compare-picker"
    # What the card draws for the compared jobs (never the selected one: JobDetails.STORE has it).
    STORE = "compare-store"
    # {"picks", "signature", "final"}: finished, loaded comparisons skip the fetch entirely.
    SIGNATURE = "compare-signature-store"
    GRAPH = "compare-loss-graph"
    GRAPH_BOX = "compare-graph-box"  # where the graph is mounted once a job is shown
    MOUNTED = "compare-graph-mounted"
    TABLE = "compare-table"
    RESULTS = "compare-results"
    EMPTY = "compare-empty"
    MESSAGE = "compare-message"


class EventsLog:
    LIST = "events-log-list"
    COUNT = "events-log-count"
    LEVELS = "events-log-levels"
    TYPES = "events-log-types"


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
    UPLOAD_BOX = "create-job-upload-box"  # carries data-limit-bytes for assets/upload_limit.js
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


class Alerts:
    # {job id: [alert, ...]} of the jobs the sync loop follows: badges, filter, notifications.
    STORE = "alerts-store"
    BANNER = "detail-alerts-banner"


class Notify:
    ENABLE = "notify-enable-button"
    MENU = "notify-menu"
    # Which transitions notify, kept in the browser: {"succeeded": bool, "failed": …, "alerts": …}.
    PREFS = "notify-prefs-store"
    PREF_CHOICES = "notify-pref-choices"
    STATE = "notify-state"
    TOASTS = "notify-toasts"


class Budget:
    WARNING = "create-job-budget-warning"


class Push:
    # Bumped by the push bridge (assets/push.js) when the list / a shown job changed: the fetch
    # callbacks take them as Inputs beside the refresh Interval.
    LIST_SIGNAL = "push-list-signal"
    # Only the list's live fields moved (a running job's steps): its own small fetch, which never
    # re-triggers, and so never drops, the list's fetch of new rows.
    PROGRESS_SIGNAL = "push-progress-signal"
    # The output of the callback telling push.js whether the open job is settled (nothing reads it).
    SETTLED = "push-settled-store"
    JOB_SIGNAL = "push-job-signal"
    # "live" (a stream is open), "polling" (no stream: the Interval polls) or "off" (auto-refresh off).
    STATE = "push-state-store"
    CONFIG = "push-config-store"
    INDICATOR = "push-indicator"
    # Drives what depends on the clock only (relative times): clientside, never a request.
    CLOCK = "push-clock"


class Theme:
    # The header's light/dark switch, and the theme in force ("light" | "dark") for the server's
    # figures. The choice itself lives in the browser (localStorage, assets/theme_boot.js).
    SWITCH = "theme-switch"
    STORE = "theme-store"
    # Tells the server-built figures that the theme changed, set only once the graphs are mounted
    # (a callback with an Output that does not exist yet is an error).
    FIGURES = "theme-figures-store"


class ShortcutsHelp:
    # assets/shortcuts.js clicks BUTTON for `?` and reads the page's open modals itself.
    BUTTON = "shortcuts-help-button"
    MODAL = "shortcuts-help-modal"
    TABLE = "shortcuts-help-table"
