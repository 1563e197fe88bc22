"""Every component id, as a constant: a typo fails at import, not silently in the browser."""

# Shell
URL = "url"
VIEW = "view"  # dcc.Store: the parsed view state (filters + page), never data rows
RENDERED = "rendered"  # dcc.Store: which page skeleton is on screen (page, facility, lang)
LANG_SINK = "lang-sink"  # dcc.Store written by the clientside <html lang> callback
SKIP_LINK = "skip-link"
NAVBAR = "navbar"
NAV_LINKS = "nav-links"
NAV_TOGGLE = "nav-toggle"  # phone: the "Menú" button that unfolds the navigation
NAV_TOGGLE_LABEL = "nav-toggle-label"
BRAND_TITLE = "brand-title"
LANG_SWITCH = "lang-switch"
FILTER_BAR = "filter-bar"
CONTENT = "page-content"
FOOTER = "footer"

FILTER_REGION = "filter-region"
FILTER_DISTRICT = "filter-district"
FILTER_TYPE = "filter-type"
FILTER_INDICATOR = "filter-indicator"
FILTER_PERIOD = "filter-period"
LABEL_REGION = "label-region"
LABEL_DISTRICT = "label-district"
LABEL_TYPE = "label-type"
LABEL_INDICATOR = "label-indicator"
LABEL_PERIOD = "label-period"
FILTER_SUMMARY = "filter-summary"
FILTER_INDICATOR_INFO = "filter-indicator-info"  # the chosen indicator's (i) definition
INDICATOR_SEARCH = "indicator-search"  # type a name or code; suggestions from INDICATOR_LIST
INDICATOR_LIST = "indicator-list"
INDICATOR_SEARCH_HINT = "indicator-search-hint"
LABEL_INDICATOR_SEARCH = "label-indicator-search"
FILTER_TOGGLE = "filter-toggle"  # phone: the "Filtros" button that unfolds the filter bar
FILTER_TOGGLE_LABEL = "filter-toggle-label"
FILTER_TOGGLE_SUMMARY = "filter-toggle-summary"
FILTER_BODY = "filter-body"
NOTICE = "notice"  # what the address asked that the view could not take
DOC_TITLE = "doc-title"  # dcc.Store: the tab title, set in the page by a clientside callback
TITLE_SINK = "title-sink"
URL_SINK = "url-sink"  # dcc.Store written by the clientside address-bar clean-up
EXPORT_LINKS = "export-links"

# Resumen
OVERVIEW_CARDS = "overview-cards"
OVERVIEW_ATTENTION = "overview-attention"
OVERVIEW_TITLE = "overview-title"
OVERVIEW_ATTENTION_TITLE = "overview-attention-title"
OVERVIEW_SCROLL_SINK = "overview-scroll-sink"

# Mapa
MAP_GRAPH = "map-graph"
MAP_VIEW = "map-view"  # radio: map | tiles
MAP_POINTS = "map-points"  # checklist: facility layer on/off
MAP_BREADCRUMB = "map-breadcrumb"
MAP_TITLE = "map-title"
MAP_TITLE_INFO = "map-title-info"  # the (i) of the indicator the map shows
MAP_TABLE = "map-table"
MAP_NOTE = "map-note"
MAP_TABLE_TITLE = "map-table-title"

# Tendencias
TREND_GRAPH = "trend-graph"
TREND_GRAIN = "trend-grain"
TREND_COMPARE = "trend-compare"
TREND_TITLE = "trend-title"
TREND_TITLE_INFO = "trend-title-info"
TREND_NOTE = "trend-note"
TREND_FACILITY = "trend-facility"  # the facility followed, with a link to drop it

# Desempeño
SCORE_TABLE = "score-table"
SCORE_DOMAIN = "score-domain"
SCORE_TITLE = "score-title"
SCORE_NOTE = "score-note"

# Establecimiento
FAC_HEADER = "fac-header"
FAC_INDICATORS = "fac-indicators"
FAC_COMPLETENESS = "fac-completeness"
FAC_TRENDS = "fac-trends"  # one chart per indicator

# Informe regional (pack)
PACK_TRENDS = "pack-trends"

# Calidad (data-quality review)
CAL_TITLE = "cal-title"
CAL_BODY = "cal-body"

# Equidad
EQ_TITLE = "eq-title"
EQ_GROUPING = "eq-grouping"
EQ_SUMMARY = "eq-summary"
EQ_GRAPH = "eq-graph"
EQ_TABLE = "eq-table"
EQ_ACCESS_INTRO = "eq-access-intro"
EQ_ACCESS_MAP = "eq-access-map"
EQ_ACCESS_GRAPH = "eq-access-graph"
EQ_ACCESS = "eq-access"
EQ_NOTE = "eq-note"

# ODS 3
ODS_TITLE = "ods-title"
ODS_SUMMARY = "ods-summary"
ODS_PICK = "ods-pick"
ODS_GRAPH = "ods-graph"
ODS_UNITS = "ods-units"
ODS_NOTE = "ods-note"

# Lo más importante del mes (Resumen, regional pack)
BRIEFING = "briefing"
