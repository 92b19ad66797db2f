"""The analytics engine: a Django-free library that scores customers from a transactions table."""
