"""streamlit run app.py — the lecture app. Until the stepper lands, it shows the seed's step."""

import streamlit as st

from nnviz.engine import step
from nnviz.notation import number
from nnviz.problem import preset

st.set_page_config(page_title="nnviz", layout="wide")
st.title("nnviz")
result = step(preset("seed"))
st.subheader(result.problem.title)
st.write(f"Loss L = {number(result.forward.loss)}")
st.write("Output o = [" + ", ".join(number(v) for v in result.forward.post[-1]) + "]")
