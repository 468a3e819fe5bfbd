# GPT-2 with HardTanh in place of LayerNorm, 64M parameters, 10M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss: HardTanh 4.660.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_10m import *

norm = "hardtanh"
out_dir = "out/hardtanh_64m_10m"
