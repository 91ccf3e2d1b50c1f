from django.db import models


class FeedbackKind(models.TextChoices):
    PRAISE = "praise", "Praise"
    OBJECTION = "objection", "Objection"
    FEATURE_REQUEST = "feature_request", "Feature request"
    STORY = "story", "Customer story"
    LOSS_REASON = "loss_reason", "Loss reason"
    REJECTION_REASON = "rejection_reason", "Lead rejection reason"
    COMPETITOR = "competitor", "Competitor mention"


class FeedbackSource(models.TextChoices):
    WEB = "web", "Web form"
    API = "api", "API"
    CSV = "csv", "CSV import"
    OPPORTUNITY_LOSS = "opportunity_loss", "Opportunity loss reason"
    HANDOFF_REJECTION = "handoff_rejection", "Handoff rejection"
    SIMULATOR = "simulator", "Demo simulator"


class ThemeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    MERGED = "merged", "Merged into another theme"
    RETIRED = "retired", "Retired (no longer found)"


class AssignmentMethod(models.TextChoices):
    CLUSTER = "cluster", "Clustering run"
    INCREMENTAL = "incremental", "Nearest theme (incremental)"
    MANUAL = "manual", "Set by a person"
    UNASSIGNED = "unassigned", "Unassigned until the next run"


class ThemeEditKind(models.TextChoices):
    RENAME = "rename", "Rename"
    MERGE = "merge", "Merge"
    SPLIT = "split", "Split"
    MOVE = "move", "Move items"


class ThemeBackend(models.TextChoices):
    TFIDF = "tfidf", "TF-IDF + NMF"
    EMBEDDING = "embedding", "Sentence embeddings"


class InsightStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ACTED_ON = "acted_on", "Acted on"
    CLOSED = "closed", "Closed"
