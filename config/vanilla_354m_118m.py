# GPT-2 with LayerNorm, 354M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.355, DyT 3.803,
# DyT - LayerNorm = +13.4%; DyT saturation 0.327.
from config.common.regime import *
from config.common.scale_354m import *
from config.common.budget_118m import *

norm = "layernorm"
out_dir = "out/vanilla_354m_118m"
