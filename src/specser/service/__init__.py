"""The HTTP service: `create_app(settings)` builds a FastAPI app around one Predictor."""
