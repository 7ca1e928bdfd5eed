"""Phrasings a marketing lead would type, with the intent and entities `gtm ask` must read from them.

Each entry: (question, intent, expected entities). Only the entity keys given are compared; an
entity key that is given must match exactly (lists as sets for channels/personas/cohorts, in order
for changes). Periods are the parser's normalized period objects; resolution to dates against the
data happens later, in the answers.
"""

P = dict  # shorthand for a period object

PHRASINGS = [
    # --- roi -------------------------------------------------------------------------------------
    ("What is the ROI of TV vs Search?", "roi", {"channels": ["TV", "Search"]}),
    ("what's the roi of tv versus search", "roi", {"channels": ["TV", "Search"]}),
    ("ROI by channel", "roi", {"channels": []}),
    ("Which channel has the best return on ad spend?", "roi", {"channels": []}),
    ("Is Radio worth it?", "roi", {"channels": ["Radio"]}),
    ("roas for facebook and google ads", "roi", {"channels": ["Social", "Search"]}),
    ("How efficient is our televsion spend?", "roi", {"channels": ["TV"]}),
    ("Does prnt pay off?", "roi", {"channels": ["Print"]}),
    ("Compare the returns of CTV, display and e-mail", "roi", {"channels": ["CTV", "Display", "Email"]}),
    ("which channels perform best", "roi", {"channels": []}),
    ("REVENUE PER DOLLAR ON SEARCH", "roi", {"channels": ["Search"]}),
    ("How does connected TV compare with linear TV on ROI?", "roi", {"channels": ["CTV", "TV"]}),
    ("roi of serach", "roi", {"channels": ["Search"]}),
    # --- saturation ------------------------------------------------------------------------------
    ("Which channels are saturated?", "saturation", {"channels": []}),
    ("is search saturated", "saturation", {"channels": ["Search"]}),
    ("Where are we hitting diminishing returns?", "saturation", {"channels": []}),
    ("How much headroom does Socail have?", "saturation", {"channels": ["Social"]}),
    ("Are we maxed out on email?", "saturation", {"channels": ["Email"]}),
    ("marginal roi of display and radio", "saturation", {"channels": ["Display", "Radio"]}),
    ("Can we scale up programmatic?", "saturation", {"channels": ["Display"]}),
    ("Which channels still have room to grow?", "saturation", {"channels": []}),
    ("SATURATION OF TV", "saturation", {"channels": ["TV"]}),
    # --- contribution / drivers ------------------------------------------------------------------
    ("Which channels drive revenue?", "contribution", {"channels": [], "periods": []}),
    ("How much revenue does Search contribute?", "contribution", {"channels": ["Search"]}),
    ("What share of revenue comes from TV and radio?", "contribution", {"channels": ["TV", "Radio"]}),
    ("contribution by channel", "contribution", {"channels": []}),
    ("What are the main drivers of sales?", "contribution", {"periods": []}),
    ("incremental revenue from newsletters", "contribution", {"channels": ["Email"]}),
    ("How much revenue is social media responsible for?", "contribution", {"channels": ["Social"]}),
    # --- trend / period drivers ------------------------------------------------------------------
    ("What drove Q4?", "drivers", {"periods": [P(kind="quarter", quarter=4, year=None)]}),
    ("what drove q4 2024", "drivers", {"periods": [P(kind="quarter", quarter=4, year=2024)]}),
    ("Why did revenue drop last month?", "drivers", {"periods": [P(kind="previous", unit="month", count=1)]}),
    ("Explain the change in revenue in November 2025", "drivers", {"periods": [P(kind="month", month=11, year=2025)]}),
    ("What happened in the third quarter?", "drivers", {"periods": [P(kind="quarter", quarter=3, year=None)]}),
    ("What drove revenue over the last 8 weeks?", "drivers", {"periods": [P(kind="trailing", unit="week", count=8)]}),
    ("What drives revenue in Q1 2025?", "drivers", {"periods": [P(kind="quarter", quarter=1, year=2025)]}),
    ("why was last quarter so strong", "drivers", {"periods": [P(kind="previous", unit="quarter", count=1)]}),
    ("revenue trend by channel in 2025", "drivers", {"periods": [P(kind="year", year=2025)]}),
    ("What drove Q4 vs last year?", "drivers", {"periods": [P(kind="quarter", quarter=4, year=None)], "compare": "year"}),
    # --- budget scenarios ------------------------------------------------------------------------
    (
        "What happens if we cut Social by 20%?",
        "scenario",
        {"channels": ["Social"], "percentages": [20], "changes": [{"channel": "Social", "percent": -20}]},
    ),
    ("what if we cut tv by 20 percent", "scenario", {"changes": [{"channel": "TV", "percent": -20}]}),
    ("Move 10% from TV to Search", "scenario", {"changes": [{"from": "TV", "to": "Search", "percent": 10}]}),
    (
        "What if we shift 15% of the TV budget into paid search?",
        "scenario",
        {"changes": [{"from": "TV", "to": "Search", "percent": 15}]},
    ),
    ("increase search by $500 a day", "scenario", {"amounts": [500], "changes": [{"channel": "Search", "amount": 500}]}),
    ("What if we double email?", "scenario", {"changes": [{"channel": "Email", "percent": 100}]}),
    ("halve print spend", "scenario", {"changes": [{"channel": "Print", "percent": -50}]}),
    ("What would happen if we paused radio?", "scenario", {"changes": [{"channel": "Radio", "percent": -100}]}),
    (
        "cut TV and radio by 10%",
        "scenario",
        {"changes": [{"channel": "TV", "percent": -10}, {"channel": "Radio", "percent": -10}]},
    ),
    (
        "Boost Social by 25% and cut Print by 50%",
        "scenario",
        {"changes": [{"channel": "Social", "percent": 25}, {"channel": "Print", "percent": -50}]},
    ),
    ("what if we spent 30% less on display", "scenario", {"changes": [{"channel": "Display", "percent": -30}]}),
    ("Raise the CTV budget by 1k per day", "scenario", {"amounts": [1000], "changes": [{"channel": "CTV", "amount": 1000}]}),
    ("What if we turn off facebook?", "scenario", {"changes": [{"channel": "Social", "percent": -100}]}),
    ("reduce serach spend by 5%", "scenario", {"changes": [{"channel": "Search", "percent": -5}]}),
    ("WHAT IF WE INCREASE EMAIL BY 40%", "scenario", {"changes": [{"channel": "Email", "percent": 40}]}),
    # --- forecast --------------------------------------------------------------------------------
    ("What will revenue be over the next two weeks?", "forecast", {"periods": [P(kind="next", unit="week", count=2)]}),
    ("revenue forecast", "forecast", {"periods": []}),
    ("Forecast sales for the next 7 days", "forecast", {"periods": [P(kind="next", unit="day", count=7)]}),
    ("what revenue do we expect next week", "forecast", {"periods": [P(kind="next", unit="week", count=1)]}),
    ("Predict revenue for the coming 10 days", "forecast", {"periods": [P(kind="next", unit="day", count=10)]}),
    ("How much will we make tomorrow?", "forecast", {"periods": [P(kind="next", unit="day", count=1)]}),
    ("revenue outlook", "forecast", {}),
    ("projected revenue next month", "forecast", {"periods": [P(kind="next", unit="month", count=1)]}),
    ("forcast revenue", "forecast", {}),
    # --- persona ---------------------------------------------------------------------------------
    ("Which persona responds best to email?", "persona", {"channels": ["Email"], "personas": []}),
    ("which segment responds best to emial", "persona", {"channels": ["Email"]}),
    ("Tell me about the Champions", "persona", {"personas": ["Champions"]}),
    (
        "What is the response rate of Mid-Career Deal-Responsive customers?",
        "persona",
        {"personas": ["Deal-Responsive"], "cohorts": ["Mid-Career"]},
    ),
    (
        "Who are the hard to convert customers in the legacy cohort?",
        "persona",
        {"personas": ["Hard-to-Convert"], "cohorts": ["Legacy"]},
    ),
    ("brief for young professionals champions", "persona", {"personas": ["Champions"], "cohorts": ["Young Professionals"]}),
    ("Which cohort has the highest response rate?", "persona", {}),
    ("show me our personas", "persona", {}),
    ("Which audience should we target with social?", "persona", {"channels": ["Social"]}),
    ("how do deal seekers respond", "persona", {"personas": ["Deal-Responsive"]}),
    (
        "Premium but quiet customers in the Established cohort",
        "persona",
        {"personas": ["Premium-but-Quiet"], "cohorts": ["Established"]},
    ),
    ("who are the mid carrer champoins", "persona", {"personas": ["Champions"], "cohorts": ["Mid-Career"]}),
    # --- allocation ------------------------------------------------------------------------------
    ("What budget allocation do you recommend?", "allocation", {}),
    ("How should we split tomorrow's budget?", "allocation", {}),
    ("recommended spend for search", "allocation", {"channels": ["Search"]}),
    ("Where should we put our money?", "allocation", {}),
    ("optimal media mix", "allocation", {}),
    ("Which channel should get more budget next month?", "allocation", {}),
    ("Where should the next dollar go?", "allocation", {}),
    ("How would you split 20k a day?", "allocation", {"amounts": [20000]}),
    # --- identification --------------------------------------------------------------------------
    ("Is the TV estimate reliable?", "identification", {"channels": ["TV"]}),
    ("Can we trust the search numbers?", "identification", {"channels": ["Search"]}),
    ("which channels are identified", "identification", {}),
    ("how confident is the model about radio", "identification", {"channels": ["Radio"]}),
    # --- experiment ------------------------------------------------------------------------------
    ("Which experiment should we run next?", "experiment", {}),
    ("what lift test should we run and for how long", "experiment", {}),
    ("plan a geo holdout for display", "experiment", {"channels": ["Display"]}),
    # --- customer value (written with the intent; the first two were tried while writing its patterns) --
    ("Who are our most valuable customers?", "customer_value", {}),
    ("What is a customer worth?", "customer_value", {}),
    ("what's the lifetime value of a customer", "customer_value", {}),
    ("Show me our top customers by predicted LTV", "customer_value", {}),
    # --- executive summary -----------------------------------------------------------------------
    ("Give me the executive summary", "summary", {}),
    ("How are we doing?", "summary", {}),
    ("tl;dr", "summary", {}),
    ("summarise marketing performance", "summary", {}),
    ("Key numbers for the board", "summary", {}),
    ("big picture please", "summary", {}),
    ("EXEC SUMMARY", "summary", {}),
    # --- cannot answer ---------------------------------------------------------------------------
    ("What's the weather in Paris?", "unknown", {}),
    ("Write me a poem", "unknown", {}),
    ("How many employees do we have?", "unknown", {}),
]

# Written after the parser, and measured before any change to it: 25 of 30 right on first run
# (the five misses, fixed since, are marked).
MORE_PHRASINGS = [
    ("Which is more profitable, radio or print?", "roi", {"channels": ["Radio", "Print"]}),
    ("tv roi with confidence interval", "roi", {"channels": ["TV"]}),
    ("How good is our Instagram spend?", "roi", {"channels": ["Social"]}),
    ("is paid social saturating", "saturation", {"channels": ["Social"]}),
    ("Should we spend more on search or are we past the point of diminishing returns?", "saturation", {"channels": ["Search"]}),
    ("where is the next dollar best spent", "saturation", {}),
    ("Break down revenue by channel", "contribution", {}),
    ("What does TV bring in?", "contribution", {"channels": ["TV"]}),
    ("What drove revenue in December 2024?", "drivers", {"periods": [P(kind="month", month=12, year=2024)]}),
    ("Why did sales spike in Q2?", "drivers", {"periods": [P(kind="quarter", quarter=2, year=None)]}),
    ("Explain this quarter", "drivers", {"periods": [P(kind="this", unit="quarter")]}),
    ("what changed in the last 4 weeks", "drivers", {"periods": [P(kind="trailing", unit="week", count=4)]}),
    ("Drop display by 15%", "scenario", {"changes": [{"channel": "Display", "percent": -15}]}),
    ("What if search spend goes up by 10 percent?", "scenario", {"changes": [{"channel": "Search", "percent": 10}]}),
    (
        "take 5% of print and put it into email",
        "scenario",
        {"changes": [{"from": "Print", "to": "Email", "percent": 5}]},
    ),  # missed: a move split at "and"
    ("what happens if we stop podcasts", "scenario", {"changes": [{"channel": "Radio", "percent": -100}]}),
    ("Add $2,000 per day to CTV", "scenario", {"amounts": [2000], "changes": [{"channel": "CTV", "amount": 2000}]}),
    # ^ missed: the clause split at the thousands comma
    ("How much revenue will we get in the next 14 days?", "forecast", {"periods": [P(kind="next", unit="day", count=14)]}),
    ("revenue projection for the next fortnight", "forecast", {"periods": [P(kind="next", unit="week", count=2)]}),
    ("What are we expecting to earn next week?", "forecast", {"periods": [P(kind="next", unit="week", count=1)]}),
    ("Which customers buy the most online?", "persona", {"purchase_channels": ["web"]}),
    ("What offer should we give the Champions?", "persona", {"personas": ["Champions"]}),
    ("Describe the Legacy cohort", "persona", {"cohorts": ["Legacy"]}),
    ("best segment for search campaigns", "persona", {"channels": ["Search"]}),
    ("How should we reallocate our budget?", "allocation", {}),  # missed: "reallocate" not read
    ("what does the optimizer recommend for TV", "allocation", {"channels": ["TV"]}),
    ("Give me a quick overview", "summary", {}),
    ("What should the CMO know?", "summary", {}),  # missed: unknown
    ("How many stores do we have in Germany?", "unknown", {}),  # missed: read as persona ("stores")
    ("Translate this into French", "unknown", {}),
]
