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
