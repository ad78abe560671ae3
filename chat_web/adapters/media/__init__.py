"""Media stores: local disk (default) and Cloudinary."""
