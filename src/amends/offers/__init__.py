"""Offers: proportionate compensation, its approval, budget and vouchers."""
