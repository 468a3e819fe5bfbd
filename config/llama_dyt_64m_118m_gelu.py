# Llama-DyT, 64M-sized, 118M tokens, with GPT-2's GELU MLP instead of SwiGLU (arXiv 2604.23434, reference/paper_cells.json).
# 57.23M parameters (tied embedding counted once).
# Paper, val loss at step 4000 (its run ended there, see reference/paper_cells.json step_notes): 4.476 (baseline Llama-DyT 5.630).
# Collapsed runs plateau near 7.44 with alpha stuck near 2.0.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *
from config.common.llama import *

norm = "dyt"
activation = "gelu"
out_dir = "out/llama_dyt_64m_118m_gelu"
