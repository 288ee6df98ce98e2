"""Exports of a claim: XLSX, CSV (device detail) and the PDF summary."""
