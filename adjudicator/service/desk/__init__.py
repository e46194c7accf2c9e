"""The claims desk: server-rendered pages (ja/en) on the service's app. May import what service may."""
