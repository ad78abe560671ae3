"""Web Push: VAPID keys, the sender (pywebpush's aes128gcm + VAPID), and the send-push queue."""
