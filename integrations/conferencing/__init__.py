"""Conferencing providers (Jitsi, BigBlueButton, Google Meet, Zoom, Telemost)."""
