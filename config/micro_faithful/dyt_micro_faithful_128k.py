# CPU micro grid, paper-faithful: DyT (alpha_0 = 2.0) with the paper's model (no embedding scale), 0.8M
# parameters, the first 128,000 bytes of tiny Shakespeare. At this size DyT sits on the unigram
# plateau (config/common/micro.py says why); run it beside the main grid, into the same folder, and
# the report shows the two studies side by side.
from config.common.micro import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt"
scale = "micro-faithful"
budget = "128k"

train_tokens = 128_000
norm = "dyt"
alpha_init = 2.0
embed_scale = False
out_dir = "out/micro_faithful/dyt_micro_faithful_128k"
