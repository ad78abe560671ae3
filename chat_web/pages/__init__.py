"""One module per page; chat_web.chat_web registers them."""
