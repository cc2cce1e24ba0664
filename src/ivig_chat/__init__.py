"""ivig-chat."""
