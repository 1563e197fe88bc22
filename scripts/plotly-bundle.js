// The plotly.js the dashboard serves: the core and only the trace types dashboard/figures.py and
// dashboard/maps.py draw (scatter is in the core). Built by `make plotly` (npm run build:plotly)
// into dashboard/static/plotly.min.js, about a third of Dash's full plotly.js; a trace type added
// to the builders must be added here too (tests/test_plotly_bundle.py checks the list).
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/choropleth'),
    require('plotly.js/lib/scattergeo'),
]);

module.exports = Plotly;
