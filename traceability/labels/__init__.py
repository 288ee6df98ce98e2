"""Device QR IDs and their printed labels (PNG, SVG, PDF sheets)."""
