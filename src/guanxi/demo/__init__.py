"""The demo company behind `guanxi demo`: a deterministic simulation (numpy, Arrow) and its bulk
loader. A plain package, not a Django app: it has no models. See docs/demo.md."""
