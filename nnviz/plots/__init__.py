"""Plotly figures: the network and the training curves. Imports nnviz.core and nnviz.teaching."""
