# Llama-DyT, 64M-sized, 118M tokens, with plain multi-head attention (the paper's ablate_gqa) (arXiv 2604.23434, reference/paper_cells.json).
# 66.66M parameters (tied embedding counted once).
# Paper, val loss at step 4000 (its run ended there, see reference/paper_cells.json step_notes): 6.570 (baseline Llama-DyT 5.630).
# The paper's baseline is already multi-head (config/common/llama.py), so this builds the same
# model as llama_dyt_64m_118m: any difference is the seed and the step. Collapsed runs plateau near 7.44 with alpha stuck near 2.0.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *
from config.common.llama import *

norm = "dyt"
n_kv_head = None
out_dir = "out/llama_dyt_64m_118m_mha"
