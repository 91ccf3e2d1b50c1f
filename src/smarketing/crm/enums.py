from django.db import models


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", "Decision maker"
    CHAMPION = "champion", "Champion"
    INFLUENCER = "influencer", "Influencer"
    USER = "user", "User"
    BLOCKER = "blocker", "Blocker"
    UNKNOWN = "unknown", "Unknown"


class RevenueBand(models.TextChoices):
    UNDER_1M = "<1M", "Under $1M"
    B1_10M = "1-10M", "$1M–10M"
    B10_50M = "10-50M", "$10M–50M"
    B50_250M = "50-250M", "$50M–250M"
    OVER_250M = "250M+", "Over $250M"
    UNKNOWN = "", "Unknown"


class OpportunityType(models.TextChoices):
    NEW_BUSINESS = "new_business", "New business"
    EXPANSION = "expansion", "Expansion"
    RENEWAL = "renewal", "Renewal"


class OpportunityStage(models.TextChoices):
    DISCOVERY = "discovery", "Discovery"
    QUALIFICATION = "qualification", "Qualification"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    CLOSED_WON = "closed_won", "Closed won"
    CLOSED_LOST = "closed_lost", "Closed lost"


class Outcome(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"
