"""streamlit run app.py: the lecture app."""

from nnviz.ui.app import main

main()
