"""Measuring models: parameters and multiplications per layer, from the layers themselves."""
