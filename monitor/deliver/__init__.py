"""Delivery: webhook endpoints, payloads rendered from stored facts, chat formats, the signed
POST, and the sender that drains the outbox through a small ``AlertOutbox`` contract.

May import ``fetch``, ``match``, ``text`` and the records; never the store or the app.
"""
