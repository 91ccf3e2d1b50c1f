"""HTML pages: parse the request, call one helper, render. Writes go through the owning app's services."""
