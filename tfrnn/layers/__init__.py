"""Keras 3 recurrent layers."""
