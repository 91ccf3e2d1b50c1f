"""The demo company's vocabulary: who buys, what they are called, and the year of campaigns with their planted effects.

Everything here is static data; the simulator draws from it with a seeded generator. The company sells
"Ledgerline", a finance-automation SaaS (month-end close, reconciliation, consolidation) to finance teams.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta

PRODUCT = "Ledgerline"
AS_OF = date(2026, 11, 23)  # the default last simulated day; fixed so a seed (and every test) gives the same company
WINDOW_DAYS = 365
_as_of: ContextVar[date] = ContextVar("demo_as_of", default=AS_OF)


def as_of() -> date:
    """The last simulated day of the company being seeded (AS_OF unless `simulated_year_ending` says otherwise)."""
    return _as_of.get()


@contextmanager
def simulated_year_ending(last_day: date) -> Iterator[None]:
    """Seed a company whose simulated year ends on `last_day` (`smarketing demo` ends it as today begins); the same
    seed and last day give the same company."""
    token = _as_of.set(last_day)
    try:
        yield
    finally:
        _as_of.reset(token)

INDUSTRIES = ("Software", "Financial services", "Healthcare", "Manufacturing", "Retail", "Logistics",
              "Education", "Media", "Professional services", "Public sector")
INDUSTRY_WEIGHTS = (0.2, 0.14, 0.11, 0.12, 0.1, 0.08, 0.06, 0.06, 0.09, 0.04)
TARGET_INDUSTRIES = frozenset({"Software", "Financial services", "Healthcare", "Manufacturing"})

REGIONS = ("EMEA", "AMER", "APAC")
REGION_WEIGHTS = (0.38, 0.47, 0.15)
COUNTRIES = {
    "EMEA": (("United Kingdom", 0.3), ("Germany", 0.25), ("France", 0.15), ("Netherlands", 0.12), ("Sweden", 0.08),
             ("Spain", 0.1)),
    "AMER": (("United States", 0.78), ("Canada", 0.14), ("Brazil", 0.08)),
    "APAC": (("Australia", 0.4), ("Singapore", 0.25), ("Japan", 0.2), ("India", 0.15)),
}

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_WEIGHTS = (0.55, 0.33, 0.12)
# log-normal employees per segment: (median, sigma, min, max)
EMPLOYEES = {"smb": (60, 0.7, 10, 199), "mid_market": (900, 0.8, 200, 5000), "enterprise": (12000, 0.9, 5001, 250000)}
COMMITTEE = {"smb": (2, 5), "mid_market": (4, 10), "enterprise": (8, 20)}  # contacts per account, inclusive
ACV = {"smb": (9000, 0.45), "mid_market": (42000, 0.5), "enterprise": (180000, 0.55)}  # (median, sigma)
CYCLE_DAYS = {"smb": 28, "mid_market": 62, "enterprise": 115}  # median days from opportunity to close
WIN_RATE = {"smb": 0.28, "mid_market": 0.24, "enterprise": 0.2}

ROLE_WEIGHTS = {"decision_maker": 0.14, "champion": 0.2, "influencer": 0.33, "user": 0.33}
TITLES = {
    "decision_maker": ("CFO", "VP Finance", "Chief Financial Officer", "Finance Director", "Head of Finance",
                       "SVP Finance & Operations"),
    "champion": ("Controller", "Financial Controller", "Head of Accounting", "FP&A Director", "Accounting Manager"),
    "influencer": ("IT Director", "Head of Procurement", "Finance Systems Manager", "Senior Accountant",
                   "RevOps Manager", "Treasury Manager", "CIO"),
    "user": ("Accountant", "AP Specialist", "Staff Accountant", "Billing Specialist", "Financial Analyst",
             "AR Clerk", "Payroll Specialist"),
}

FIRST_NAMES = ("Ada", "Ben", "Chloe", "Daniel", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kara", "Leo",
               "Maya", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena",
               "Yusuf", "Zoe", "Amara", "Bruno", "Camille", "Dev", "Emma", "Farah", "Giulia", "Hiro", "Isaac",
               "Jana", "Kofi", "Lina", "Mateo", "Nina", "Omar", "Priya", "Rahul", "Sofia", "Tomas", "Ulla", "Victor",
               "Wanda", "Yara", "Zain", "Alice", "Chen", "Diego", "Eva", "Freya", "Gabriel", "Hannah", "Ivan")
LAST_NAMES = ("Smith", "Müller", "Garcia", "Nguyen", "Kowalski", "Rossi", "Tanaka", "Okafor", "Silva", "Johansson",
              "Dubois", "Patel", "Kim", "Novak", "Brown", "Schmidt", "Lopez", "Chen", "Andersen", "Murphy", "Costa",
              "Ivanova", "Haddad", "Fischer", "Moreau", "Singh", "Cohen", "Walker", "Bauer", "Sato", "Hughes",
              "Romero", "Larsen", "Kaur", "Ward", "Meyer", "Ricci", "Jansen", "Yilmaz", "Ali", "Park", "Evans")
NAME_A = ("North", "Bright", "Blue", "Iron", "Silver", "Clear", "Summit", "Harbor", "Pioneer", "Granite", "Cedar",
          "Vertex", "Atlas", "Nova", "Polar", "Crimson", "Maple", "Lumen", "Orbit", "Prairie", "Quartz", "River",
          "Stone", "Tidal", "Urban", "Velvet", "Willow", "Zenith", "Amber", "Beacon", "Cobalt", "Delta", "Ember")
NAME_B = ("wind", "path", "forge", "field", "gate", "line", "bridge", "point", "works", "stream", "peak", "wave",
          "craft", "labs", "logic", "mark", "scale", "shore", "sight", "stack", "tree", "vale", "yard", "hub")
NAME_SUFFIX = {"Software": ("Software", "Cloud", "Systems", "Technologies"), "Financial services": ("Capital", "Bank",
               "Financial", "Partners"), "Healthcare": ("Health", "Medical", "Care", "Clinics"),
               "Manufacturing": ("Industries", "Manufacturing", "Components", "Machines"),
               "Retail": ("Retail", "Stores", "Brands", "Goods"), "Logistics": ("Logistics", "Freight", "Transport",
               "Shipping"), "Education": ("Learning", "Academy", "Education", "Schools"),
               "Media": ("Media", "Studios", "Publishing", "Digital"), "Professional services": ("Consulting",
               "Advisory", "Group", "Associates"), "Public sector": ("Council", "Authority", "Agency", "Services")}

TEAMS = ("Inbound", "EMEA", "AMER", "Enterprise")


@dataclass(frozen=True)
class TouchRecipe:
    """One kind of touch an exposure to a campaign produces: present with probability p, 1 + Poisson(extra) times."""

    kind: str
    p: float
    extra: float = 0.0


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign of the demo year and its planted causal effect.

    `lift` multiplies an exposed contact's hazard of becoming in-market (ready to buy) from the first touch on;
    1.0 means the campaign changes nothing, however many touches it produces.
    """

    key: str
    name: str
    channel: str
    type: str
    start_day: int
    days: int
    reach: float  # share of eligible contacts exposed
    recipe: tuple[TouchRecipe, ...]
    lift: float
    budget: float  # at the medium size; scaled with the company's size
    spread_days: float = 14.0  # how long after first exposure its touches continue
    audience: str = ""
    message: str = ""
    segments: tuple[str, ...] = ()  # empty = all
    regions: tuple[str, ...] = ()
    customers_only: bool = False
    acquisition: float = 0.0  # weight as a first-touch (lead source) campaign
    role: str = ""  # planted role: "strong", "null", "capture", "" (ordinary)

    def start(self) -> date:
        return window_start() + timedelta(days=self.start_day)


def window_start() -> date:
    return as_of() - timedelta(days=WINDOW_DAYS - 1)


R = TouchRecipe
_DISPLAY = (R("ad_impression", 1.0, 14.0), R("ad_click", 0.12))
_SOCIAL = (R("ad_impression", 1.0, 5.0), R("ad_click", 0.25), R("page_view", 0.2, 1.0))
_SEARCH = (R("ad_click", 1.0), R("page_view", 0.8, 2.0), R("content_download", 0.1))
_NEWS = (R("email_open", 1.0, 1.0), R("email_click", 0.15), R("page_view", 0.1))
_WEBINAR = (R("webinar_registered", 1.0), R("webinar_attended", 0.55), R("content_download", 0.15))
_EVENT = (R("event_attended", 1.0), R("meeting", 0.2), R("page_view", 0.3, 1.0))
_CONTENT = (R("page_view", 1.0, 1.5), R("content_download", 0.6), R("form_fill", 0.25))
_REFERRAL = (R("form_fill", 1.0), R("meeting", 0.4), R("page_view", 0.6, 1.0))


def _quarters(key: str, name: str, **kw) -> list[CampaignSpec]:  # type: ignore[no-untyped-def]
    return [CampaignSpec(key=f"{key}-q{q + 1}", name=f"{name} – Q{q + 1}", start_day=q * 91, days=90, **kw)
            for q in range(4)]


def _monthly(key: str, name: str, **kw) -> list[CampaignSpec]:  # type: ignore[no-untyped-def]
    months = ("Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov")
    return [CampaignSpec(key=f"{key}-m{m + 1:02d}", name=f"{name} – {months[m]}", start_day=m * 30 + 2, days=10, **kw)
            for m in range(12)]


CAMPAIGNS: tuple[CampaignSpec, ...] = (
    # Planted null with huge volume: broad display reaches most people, produces most touches, changes nothing.
    CampaignSpec(key="display-always-on", name="Always-on display retargeting", channel="display", type="brand",
                 start_day=0, days=364, reach=0.62, recipe=_DISPLAY, lift=1.0, budget=180000, spread_days=120,
                 audience="Every known visitor and lead", message="Ledgerline: the close, automated.", role="null"),
    CampaignSpec(key="display-brand-q2", name="Brand awareness display burst", channel="display", type="brand",
                 start_day=120, days=75, reach=0.45, recipe=_DISPLAY, lift=1.0, budget=90000, spread_days=60,
                 audience="Finance professionals, broad", message="Finance teams deserve weekends.", role="null"),
    # Planted strong effects with few touches.
    CampaignSpec(key="webinar-close-faster", name="Close Faster webinar series", channel="webinar", type="demand_gen",
                 start_day=40, days=280, reach=0.035, recipe=_WEBINAR, lift=3.0, budget=24000, spread_days=7,
                 audience="Controllers and finance leaders at mid-market companies",
                 message="A three-day close, shown live by customers who did it.", role="strong",
                 acquisition=0.5),
    CampaignSpec(key="event-cfo-roundtable", name="CFO roundtable dinners", channel="event", type="abm",
                 start_day=150, days=150, reach=0.02, recipe=_EVENT, lift=2.5, budget=60000, spread_days=3,
                 audience="CFOs of target enterprise and mid-market accounts",
                 message="How peers took audit prep from weeks to days.", segments=("mid_market", "enterprise"),
                 role="strong"),
    # Planted demand capture: zero lift, touches land right before conversion (in-market people search the brand).
    CampaignSpec(key="search-brand", name="Paid search – brand terms", channel="paid_search", type="demand_gen",
                 start_day=0, days=364, reach=0.0, recipe=_SEARCH, lift=1.0, budget=70000, spread_days=2,
                 audience="People searching for Ledgerline", message="Ledgerline – book a demo.", role="capture"),
    # Planted reverse causation: only MQLs get it, so it sits right before the opportunity; zero lift.
    CampaignSpec(key="email-post-mql", name="Post-MQL follow-up sequence", channel="email", type="nurture",
                 start_day=0, days=364, reach=0.0, recipe=(R("email_open", 1.0, 2.0), R("email_click", 0.5, 1.0)),
                 lift=1.0, budget=8000, spread_days=10, audience="New MQLs while sales reaches out",
                 message="Three customer stories while you wait for your call.", role="capture"),
    CampaignSpec(key="content-benchmark", name="Month-end close benchmark report", channel="content",
                 type="demand_gen", start_day=30, days=200, reach=0.12, recipe=_CONTENT, lift=1.6, budget=30000,
                 spread_days=21, audience="Finance leaders researching close performance",
                 message="How long does your close take? 600 finance teams compared.", acquisition=2.0),
    CampaignSpec(key="referral-partners", name="Accounting-firm partner referrals", channel="referral",
                 type="demand_gen", start_day=0, days=364, reach=0.015, recipe=_REFERRAL, lift=2.0, budget=20000,
                 spread_days=10, audience="Clients of our accounting-firm partners",
                 message="Your auditors already trust it.", acquisition=0.6),
    CampaignSpec(key="event-finance-expo", name="FinanceTech Expo booth", channel="event", type="event",
                 start_day=200, days=3, reach=0.04, recipe=_EVENT, lift=1.3, budget=75000, spread_days=2,
                 audience="Finance and accounting professionals at the expo",
                 message="See a reconciliation run in 30 seconds.", acquisition=0.8),
    CampaignSpec(key="webinar-customer-advanced", name="Advanced consolidation webinar for customers",
                 channel="webinar", type="expansion", start_day=100, days=200, reach=0.25, recipe=_WEBINAR, lift=1.0,
                 budget=6000, spread_days=7, audience="Existing customers", customers_only=True,
                 message="Consolidate every entity in one close."),
    *_quarters("search-generic", "Paid search – non-brand", channel="paid_search", type="demand_gen", reach=0.08,
               recipe=_SEARCH, lift=1.2, budget=35000, spread_days=5,
               audience="People searching for close and reconciliation software",
               message="Automate reconciliation. Close in three days.", acquisition=2.5),
    *_quarters("social-linkedin-abm", "LinkedIn ABM – finance leaders", channel="paid_social", type="abm",
               reach=0.14, recipe=_SOCIAL, lift=1.4, budget=40000, spread_days=30,
               audience="Finance leaders at target mid-market and enterprise accounts",
               message="Your close is a project plan. It should be a button.",
               segments=("mid_market", "enterprise"), acquisition=1.0),
    *_quarters("social-broad", "Paid social – broad prospecting", channel="paid_social", type="demand_gen",
               reach=0.2, recipe=_SOCIAL, lift=1.0, budget=30000, spread_days=30,
               audience="Anyone in finance, all company sizes", message="Spreadsheets are not a close process.",
               role="null", acquisition=1.5),
    *_quarters("content-guides", "Close checklist and guides", channel="content", type="nurture", reach=0.1,
               recipe=_CONTENT, lift=1.1, budget=9000, spread_days=20,
               audience="Accountants and controllers", message="The 27-step close checklist.", acquisition=1.5),
    *_monthly("email-newsletter", "Finance ops newsletter", channel="email", type="nurture", reach=0.5,
              recipe=_NEWS, lift=1.03, budget=1500, spread_days=5, audience="All subscribed leads and customers",
              message="This month in finance operations."),
)

# Where in-market buyers come from when they raise their hand (demo request / contact-sales form).
INTENT_ROUTES = (("search-brand", 0.38), ("direct", 0.4), ("organic_search", 0.22))

LOSS_LABELS = {
    "pricing": "Price too high",
    "sso_security": "Security review failed (SSO / SOC 2)",
    "erp_integration": "Missing ERP integration",
    "competitor": "Chose a competitor",
    "budget_timing": "No budget / timing",
    "data_migration": "Migration effort too high",
    "procurement": "Stuck in procurement / legal",
}
