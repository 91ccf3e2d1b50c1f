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
