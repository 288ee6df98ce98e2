"""What the system reports about devices and batches, from their verified event logs.

The read side sits above custody (the write side), anchoring and
verification, and imports from them; nothing below imports it.
"""
