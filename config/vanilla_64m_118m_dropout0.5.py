# GPT-2 with LayerNorm and dropout 0.5, 64M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss: 4.295 (no dropout: 3.631).
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *

norm = "layernorm"
dropout = 0.5
out_dir = "out/vanilla_64m_118m_dropout0.5"
