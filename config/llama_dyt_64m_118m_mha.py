# Llama-DyT, 64M-sized, 118M tokens, with plain multi-head attention instead of GQA (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss: 6.570 (baseline Llama-DyT 5.630).
# Collapsed runs plateau near 7.44 with alpha stuck near 2.0.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *
from config.common.llama import *

norm = "dyt"
n_kv_head = None
out_dir = "out/llama_dyt_64m_118m_mha"
