# CPU micro grid, paper-faithful: LayerNorm with the paper's model (no embedding scale), 0.8M
# parameters, the first 8,000 bytes of tiny Shakespeare. At this size DyT sits on the unigram
# plateau (config/common/micro.py says why); run it beside the main grid, into the same folder, and
# the report shows the two studies side by side.
from config.common.micro import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "micro-faithful"
budget = "8k"

train_tokens = 8_000
embed_scale = False
out_dir = "out/micro_faithful/vanilla_micro_faithful_8k"
