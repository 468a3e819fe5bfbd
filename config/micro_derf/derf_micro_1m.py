# CPU micro grid: Derf (arXiv 2512.10938, alpha_0 = 0.5 and s_0 = 0 as its authors initialise them),
# 0.8M parameters, the first 1m bytes of tiny Shakespeare. Run it beside the main grid:
# python sweep.py config/micro_derf/*.py --out out/micro, and the report compares it with LayerNorm.
from config.common.micro import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "derf"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
norm = "derf"
alpha_init = 0.5
out_dir = "out/micro/derf_micro_1m"
