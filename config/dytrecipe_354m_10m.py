# GPT-2 with DyT as its authors tune it for LLMs (arXiv 2503.10622): alpha_0 0.8 before attention,
# 0.2 before the MLP and 0.2 at the final norm, and a learnable embedding scale starting at sqrt(d).
# Width 1024 is narrower than any they tune, so it takes their 4096 row (dyt.LLM_ALPHA0).
# 354M parameters, 10M tokens; the regime paper's own DyT (alpha_0 = 2, no scale) is config/dyt_354m_10m.py.
from config.common.regime import *
from config.common.scale_354m import *
from config.common.budget_10m import *

norm = "dyt"
alpha_init_attn = 0.8
alpha_init_ffn = 0.2
alpha_init_final = 0.2
embed_scale = True
out_dir = "out/dytrecipe_354m_10m"
