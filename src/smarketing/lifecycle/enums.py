from django.db import models


class Stage(models.TextChoices):
    """Canonical stage keys; the playbook defines their meaning and entry criteria."""

    LEAD = "lead", "Lead"
    MQL = "mql", "Marketing qualified lead"
    SAL = "sal", "Sales accepted lead"
    SQL = "sql", "Sales qualified lead"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    RECYCLED = "recycled", "Recycled (nurture)"
    DISQUALIFIED = "disqualified", "Disqualified"


FUNNEL_ORDER = [Stage.LEAD, Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER]


class ActorKind(models.TextChoices):
    USER = "user", "User"
    RULE = "rule", "Playbook rule"
    IMPORT = "import", "Import"
    SYSTEM = "system", "System"
    SIMULATOR = "simulator", "Demo simulator"


class Decision(models.TextChoices):
    ACCEPT = "accept", "Accepted"
    REJECT = "reject", "Rejected"
    RECYCLE = "recycle", "Recycled"


class ClockKind(models.TextChoices):
    FIRST_TOUCH = "first_touch", "First touch"
    DECISION = "decision", "Handoff decision"
    MQL_VOLUME = "mql_volume", "MQL volume"
    ACCEPTANCE_RATE = "acceptance_rate", "Acceptance rate"


class SlaSide(models.TextChoices):
    SALES = "sales", "Sales"
    MARKETING = "marketing", "Marketing"


class ClockState(models.TextChoices):
    OPEN = "open", "Open"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


class SlaEventKind(models.TextChoices):
    STARTED = "started", "Started"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    ESCALATED = "escalated", "Escalated"
    REASSIGNED = "reassigned", "Reassigned"
    CANCELLED = "cancelled", "Cancelled"
    # A sales touch on the lead by someone other than its owner: recorded, but it does not stop the clock.
    OTHER_TOUCH = "other_touch", "Touched by someone else"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookFormat(models.TextChoices):
    """The body an endpoint receives: the product's signed JSON event, or a Slack incoming-webhook message."""

    SMARKETING = "smarketing", "smarketing JSON"
    SLACK = "slack", "Slack message"


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", "Lead assigned"
    SLA_BREACH = "sla_breach", "SLA breached"
    ESCALATION = "escalation", "SLA escalation"
    REASSIGNED = "reassigned", "Lead reassigned"
    DECISION = "decision", "Handoff decision"
