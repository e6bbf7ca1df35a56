"""Loyalty programmes (a Patronage extension, not HubRise): per customer list and card ref, how orders earn
points, whether a card may go negative, when points expire and which tier a card has reached."""
