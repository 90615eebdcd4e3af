"""The visitor and hit explorer (seed 03): FunnelFlux's explorer answered from Clicktrail's
clicks, leads, sales and custom events."""
