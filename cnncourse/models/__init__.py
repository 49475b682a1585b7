"""Keras models, one module per chapter. Written with keras.layers / keras.ops so they run on any backend."""
