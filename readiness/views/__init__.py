"""Pages and exports, one module per page. Each view checks access, parses the URL's filters,
calls one query function (or one service) and renders."""
