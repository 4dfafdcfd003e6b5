"""The API's routers, one per concern: predictions, operations (health, model, metrics), admin, learners."""
