"""Request and response models, one module per resource, shared by the API and Claude's tools."""
