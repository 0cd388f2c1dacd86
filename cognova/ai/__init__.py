"""Claude inside Cognova: the Anthropic client, model prices, tools and the agent loop."""
