from django.db import models


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    REFUSED = "refused", "Refused (problems found, nothing written)"
    FAILED = "failed", "Failed"


class ImportSystem(models.TextChoices):
    HUBSPOT = "hubspot", "HubSpot"
    SALESFORCE = "salesforce", "Salesforce"
    PIPEDRIVE = "pipedrive", "Pipedrive"
    MAVEN = "maven", "Maven CRM"
    CSV = "csv", "Any CSV (with a mapping file)"


class FileKind(models.TextChoices):
    CONTACTS = "contacts", "Contacts"
    COMPANIES = "companies", "Companies"
    DEALS = "deals", "Deals"
    LEADS = "leads", "Leads"
    ACCOUNTS = "accounts", "Accounts"
    OPPORTUNITIES = "opportunities", "Opportunities"
    CAMPAIGNS = "campaigns", "Campaigns"
    MEMBERS = "members", "Campaign members"
    STAGE_HISTORY = "stage_history", "Opportunity stage history"
