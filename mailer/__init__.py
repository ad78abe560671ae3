"""The mail worker: consumes `send-otp` and delivers it. `consume` knows nothing of the broker."""
