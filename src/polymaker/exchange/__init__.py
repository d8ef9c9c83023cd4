"""Exchange access: endpoint URLs and the official Polymarket SDK pointed at them."""
