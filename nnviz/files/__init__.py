"""What leaves the page: share links and image export. Imports the layers below, not nnviz.ui."""
