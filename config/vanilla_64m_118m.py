# GPT-2 with LayerNorm, 64M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.631, DyT 4.313,
# DyT - LayerNorm = +18.8%; DyT saturation 0.234.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *

norm = "layernorm"
out_dir = "out/vanilla_64m_118m"
