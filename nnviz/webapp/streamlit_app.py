"""`nnviz app` runs this script: the same app as `streamlit run app.py`, from an installed package.

It lives in a folder of its own because Streamlit puts the script's folder on sys.path.
"""

from nnviz.ui.app import main

main()
