from django.db import models


class Channel(models.TextChoices):
    PAID_SEARCH = "paid_search", "Paid search"
    PAID_SOCIAL = "paid_social", "Paid social"
    ORGANIC_SEARCH = "organic_search", "Organic search"
    EMAIL = "email", "Email"
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event"
    CONTENT = "content", "Content"
    REFERRAL = "referral", "Referral"
    DIRECT = "direct", "Direct"
    DISPLAY = "display", "Display"
    SALES = "sales", "Sales outreach"
    PARTNER = "partner", "Partner"
    OTHER = "other", "Other"


class CampaignType(models.TextChoices):
    DEMAND_GEN = "demand_gen", "Demand generation"
    ABM = "abm", "Account-based"
    NURTURE = "nurture", "Nurture"
    BRAND = "brand", "Brand"
    EVENT = "event", "Event"
    PRODUCT_LAUNCH = "product_launch", "Product launch"
    EXPANSION = "expansion", "Customer expansion"


class TouchKind(models.TextChoices):
    AD_IMPRESSION = "ad_impression", "Ad impression"
    AD_CLICK = "ad_click", "Ad click"
    PAGE_VIEW = "page_view", "Page view"
    EMAIL_OPEN = "email_open", "Email open"
    EMAIL_CLICK = "email_click", "Email click"
    CONTENT_DOWNLOAD = "content_download", "Content download"
    FORM_FILL = "form_fill", "Form fill"
    WEBINAR_REGISTERED = "webinar_registered", "Webinar registered"
    WEBINAR_ATTENDED = "webinar_attended", "Webinar attended"
    EVENT_ATTENDED = "event_attended", "Event attended"
    DEMO_REQUEST = "demo_request", "Demo request"
    PRICING_VIEW = "pricing_view", "Pricing page view"
    SALES_CALL = "sales_call", "Sales call"
    SALES_EMAIL = "sales_email", "Sales email"
    MEETING = "meeting", "Meeting"
    CHAT = "chat", "Chat"


class OutreachKind(models.TextChoices):
    EMAIL = "email", "Email"
    CALL_NOTE = "call_note", "Call note"
    SEQUENCE_STEP = "sequence_step", "Sequence step"


class BriefCommentTopic(models.TextChoices):
    TARGETING = "targeting", "Targeting"
    MESSAGING = "messaging", "Messaging"
    ASSETS = "assets", "Assets"
    OTHER = "other", "Other"


class BriefSide(models.TextChoices):
    """Whose signature a brief sign-off is: marketing's, sales', or a RevOps override standing in for missing ones."""

    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    OVERRIDE = "override", "RevOps override"


class MemberStatus(models.TextChoices):
    """A campaign member's furthest step, in this order; a member only moves forward (sent → … → converted).

    Responded and every later status count as having responded (first_responded_at is set once, on reaching it).
    """

    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    RESPONDED = "responded", "Responded"
    REGISTERED = "registered", "Registered"
    ATTENDED = "attended", "Attended"
    CONVERTED = "converted", "Converted"


# The order of the funnel of member statuses: a position per status, so "reached" is a comparison.
MEMBER_STATUS_ORDER: dict[str, int] = {s.value: i for i, s in enumerate(MemberStatus)}
