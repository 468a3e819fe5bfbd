# GPT-2 with LayerNorm, 124M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.498, DyT 3.945,
# DyT - LayerNorm = +12.8%; DyT saturation 0.193.
from config.common.regime import *
from config.common.scale_124m import *
from config.common.budget_118m import *

norm = "layernorm"
out_dir = "out/vanilla_124m_118m"
