"""
Every experiment of config/, as one table. `python make_configs.py` writes one config file per row
and cell from it (each file says so at its top); tests/test_configs.py checks that the files are what
the table makes. Edit this table and the protocols in config/common/, not the generated files. The
papers' numbers are in reference/paper_cells.json, not here.

A row of GRID: the study; the config file's name ({arm}, {scale}, {budget}; an arm "dyt_alpha0.5"
gives {base} "dyt" and {variant} "_alpha0.5"); the protocol(s) it starts from (config/common/);
its arms (ARMS); its cells, "scale: budget budget ..." separated by ";" (a scale not in SCALES is its
protocol's, the micro model, with MICRO_BUDGETS); and the settings every config of the row adds
before its arm's. A new norm at every 64M cell is one row:
    ("regime", "{arm}_{scale}_{budget}", "regime", "softsign", "64m: 1m 10m 50m 118m", {}),
(an arm named after a norm of dyt.NORMS needs no entry in ARMS).
"""

# The regime paper's model sizes (arXiv 2604.23434): GPT-2 shapes, how each splits its 64 sequences
# of 512 tokens per step into micro-batches that fit one GPU, and its learning rate. Llama's 64M and
# 124M are the same shapes.
SCALES = {
    #        n_layer  n_head  n_embd  batch_size  gradient_accumulation_steps  learning_rate
    "64m":   (12,     8,      512,    64,         1,                           3e-4),
    "124m":  (12,     12,     768,    32,         2,                           3e-4),
    "354m":  (24,     16,     1024,   16,         4,                           3e-4),
    "1.3b":  (24,     32,     2048,   4,          16,                          1e-4),
    "3.78b": (32,     32,     3072,   8,          8,                           1e-4),  # 8 a GPU: one sharded micro-step
    # the entropic-overload study's shapes; its micro model is config/common/entropy_micro.py's
    "gpt2small": (12, 12,     768,    None,       None,                        None),
    "pythia70m": (6,  8,      512,    None,       None,                        None),
}
# The regime paper's budgets: the first N tokens of WikiText-103's training stream (None: all, ~118M),
# validated on its first max(10,000, N / 100) (all of it, ~0.25M tokens, from 50M on); the CPU micro
# grid's: the first N bytes of tiny Shakespeare
BUDGETS = {"1m": 1_000_000, "10m": 10_000_000, "50m": 50_000_000, "118m": None, "118m_10k": None}
MICRO_BUDGETS = {"8k": 8_000, "32k": 32_000, "128k": 128_000, "1m": 1_000_000}
# The regime paper's grid: the budgets each size was trained on
PAPER_CELLS = "64m: 1m 10m 50m 118m; 124m: 1m 10m 118m; 354m: 1m 10m 118m; 1.3b: 1m 10m 118m; 3.78b: 1m 118m"
MICRO_CELLS = "micro: 8k 32k 128k 1m"
# The ViT's budgets: the first N training images (None: all)
IMAGE_BUDGETS = {"300": 300, "all": None}

# No norm inside the blocks, the final LayerNorm kept, as the entropic-overload paper's LN-free models have them
LNFREE = {"norm": "identity", "norm_final": "layernorm"}
# 3.78B does not fit 8 GPUs replicated (weights, gradients, AdamW state and DDP's buckets: ~78 GB a GPU,
# python memory.py config/*3.78b*.py): its parameters are sharded (FSDP); with one process this does nothing
SHARDED = ("3.78b",)

# What each arm sets on top of its protocol, and what it is. An arm that means a norm as it comes leaves
# the norm's settings unset (its alpha_0 is then the norm's own, DyT 2 and Derf 0.5: dyt.py), so
# --norm=softsign on its configs takes Softsign's; a value set on purpose (an alpha_0 sweep) stays and
# its method names it. The arm's name is its method label;
# "vanilla" keeps its protocol's usual norm (LayerNorm; RMSNorm in config/common/llama.py). "recipe"
# is the DyT authors' LLM recipe: their alpha_0 per site for the model's width (dyt.LLM_ALPHA0) and a
# learnable scale on the embeddings.
ARMS = {
    "vanilla": ("{norm}, the usual norm", {}),
    "dyt": ("DyT, alpha_0 = 2 (the regime paper's)", {"norm": "dyt"}),
    "dytrecipe": ("DyT as its authors tune it for LLMs (arXiv 2503.10622)",
                  {"norm": "dyt", "recipe": True}),
    "hardtanh": ("HardTanh, the regime paper's control: weight * clip(x, -1, 1)", {"norm": "hardtanh"}),
    "rmsnorm": ("RMSNorm", {"norm": "rmsnorm"}),
    "derf": ("Derf (arXiv 2512.10938), weight * erf(alpha x + s) with alpha_0 = 0.5 and s_0 = 0, the norm as its "
             "authors define it at their default (for vision); not their GPT-2 recipe, which starts alpha at 1.0 at all "
             "three sites and also has biases and a "
             "learnable sqrt(d) scale on the token plus position embeddings", {"norm": "derf"}),
    "dyt_alpha0.5": ("DyT at alpha_0 = 0.5", {"norm": "dyt", "alpha_init": 0.5}),
    "dyt_alpha1": ("DyT at alpha_0 = 1", {"norm": "dyt", "alpha_init": 1.0}),
    "dyt_alpha3": ("DyT at alpha_0 = 3", {"norm": "dyt", "alpha_init": 3.0}),
    "dyt_alpha4": ("DyT at alpha_0 = 4", {"norm": "dyt", "alpha_init": 4.0}),
    "vanilla_dropout0.1": ("LayerNorm with dropout 0.1", {"dropout": 0.1}),
    "vanilla_dropout0.3": ("LayerNorm with dropout 0.3", {"dropout": 0.3}),
    "vanilla_dropout0.5": ("LayerNorm with dropout 0.5", {"dropout": 0.5}),
    "dyt_norope": ("DyT without rotary positions (no positional signal at all)",
                   {"norm": "dyt", "rope": False}),
    "dyt_mha": ("DyT with plain multi-head attention, the paper's ablate_gqa: its baseline is already "
                "multi-head (config/common/llama.py), so this builds the dyt arm's model",
                {"norm": "dyt"}),
    "dyt_gelu": ("DyT with a GELU MLP at SwiGLU's hidden width instead of SwiGLU",
                 {"norm": "dyt", "activation": "gelu"}),
    # entropic overload (Jha & Reagen): LayerNorm, or no norm in the blocks (the final LayerNorm stays)
    "ln_gelu": ("LayerNorm and GELU (the baseline)", {}),
    "ln_relu": ("LayerNorm and ReLU", {"activation": "relu"}),
    "lnfree_gelu": ("no norm in the blocks, GELU", {**LNFREE, "activation": "gelu"}),
    "lnfree_relu": ("no norm in the blocks, ReLU", {**LNFREE, "activation": "relu"}),
    "lnfree_leaky": ("no norm in the blocks, leaky ReLU with a learnable slope per layer (init 0.01)",
                     {**LNFREE, "activation": "leaky_relu"}),
    "lnfree_leakyglobal": ("no norm in the blocks, leaky ReLU with one learnable slope for the model (init 0.01)",
                           {**LNFREE, "activation": "leaky_relu_global"}),
    "lnfree_leakyfixed": ("no norm in the blocks, leaky ReLU with a fixed slope of 0.1",
                          {**LNFREE, "activation": "leaky_relu_fixed"}),
    # the plateau ablation changes one thing of the paper-faithful micro DyT at a time
    "dyt_faithful": ("the paper's DyT: alpha_0 = 2, no embedding scale (what every other setting changes one "
                     "thing of)", {"norm": "dyt"}),
    "dyt_embedscale": ("a learnable scale on the embeddings, init sqrt(n_embd) (the DyT paper's LLM recipe)",
                       {"norm": "dyt", "embed_scale": True}),
    "dyt_lr3e-3": ("a learning rate of 3e-3 instead of 1e-3", {"norm": "dyt", "learning_rate": 3e-3}),
    "dyt_warmup50": ("a warmup of 50 steps instead of 280", {"norm": "dyt", "warmup_iters": 50}),
    "dyt_steps1400": ("1,400 steps instead of 700 (the same warmup)",
                      {"norm": "dyt", "max_iters": 1400}),
    "dyt_recipe": ("the DyT paper's LLM recipe whole: per-site alpha_0 (its narrowest row) and the embedding scale",
                   {"norm": "dyt", "recipe": True}),
    "vanilla_embedscale": ("LayerNorm with the embedding scale: what the scale does without DyT", {"embed_scale": True}),
    # the regime paper's ViT trains in pure bf16: its alpha_0 sweep, and fp32 master weights as an intervention
    "dyt_alpha0.1": ("DyT at alpha_0 = 0.1", {"norm": "dyt", "alpha_init": 0.1}),
    "dyt_alpha0.3": ("DyT at alpha_0 = 0.3", {"norm": "dyt", "alpha_init": 0.3}),
    "vanilla_fp32": ("LayerNorm with fp32 master weights instead of the paper's pure bf16", {"param_dtype": "float32"}),
    "dyt_fp32": ("DyT, alpha_0 = 2, with fp32 master weights instead of the paper's pure bf16",
                 {"norm": "dyt", "param_dtype": "float32"}),
    "dyt_alpha0.5_fp32": ("DyT at alpha_0 = 0.5 with fp32 master weights instead of the paper's pure bf16",
                          {"norm": "dyt", "alpha_init": 0.5, "param_dtype": "float32"}),
    "dyt_alphafp32": ("DyT, alpha_0 = 2, in the paper's pure bf16 but for alpha, kept in fp32 in an AdamW group of its own "
                      "at the same learning rate: a free alpha with every other rounding as the paper's",
                      {"norm": "dyt", "alpha_fp32": True}),
    "dyt_fp32_frozen": ("DyT, alpha_0 = 2, with fp32 master weights and alpha frozen at its start: the frozen alpha "
                        "of pure bf16 without its rounding elsewhere",
                        {"norm": "dyt", "param_dtype": "float32", "freeze_alpha": True}),
    # a trained model's norms converted (docs/convert.md): DyT with each alpha_0 from the trained model
    "dyt_calibrated": ("DyT with each alpha_0 = 1/std of its site's input in the trained model",
                       {"norm": "dyt", "calibrate_alpha": True}),
    # the digits' 2 x 2 (alpha frozen / free x the rest pure bf16 / fp32): a free alpha at 70 x the lr travels as far
    # in the 562 steps as at 1 x over the paper's 39,100 (the same cosine, so the sums of the lr are in that ratio)
    "dyt_alphafp32_x70": ("DyT, alpha_0 = 2, in pure bf16 but for alpha, kept in fp32 in an AdamW group of its own at 70 "
                          "x the learning rate: a free alpha with every other rounding as the paper's",
                          {"norm": "dyt", "alpha_fp32": True, "alpha_lr_scale": 70.0}),
    "dyt_fp32_alphax70": ("DyT, alpha_0 = 2, with fp32 master weights and alpha at 70 x the learning rate: the free "
                          "alpha of the pure-bf16 arm beside it without the rounding elsewhere",
                          {"norm": "dyt", "param_dtype": "float32", "alpha_lr_scale": 70.0}),
}

GRID = [
    # study    config file                         protocol        arms                                  cells                  settings
    ("regime", "{arm}_{scale}_{budget}",           "regime",       "vanilla dyt dytrecipe",              PAPER_CELLS,           {}),
    ("regime", "{arm}_{scale}_{budget}",           "regime",       "hardtanh",                           "64m: 1m 10m 118m",    {}),
    ("regime", "{arm}_{scale}_{budget}",           "regime",       "rmsnorm",                            "64m: 1m 118m",        {}),
    ("regime", "{arm}_{scale}_{budget}",           "regime",       "derf",                               "64m: 1m 10m 50m 118m", {}),
    ("regime", "{base}_{scale}_{budget}{variant}", "regime",       "dyt_alpha0.5 dyt_alpha1 dyt_alpha3", "64m: 1m 118m",        {}),
    ("regime", "{base}_{scale}_{budget}{variant}", "regime",       "vanilla_dropout0.1 vanilla_dropout0.3 vanilla_dropout0.5",
     "64m: 118m", {}),
    # the paper's 10,000-step runs, LayerNorm and plain DyT on 3 seeds each: does DyT's penalty at 118M
    # tokens shrink with training?
    ("regime", "{arm}_{scale}_{budget}",           "regime",       "vanilla dyt",                        "64m: 118m_10k",       {"max_iters": 10_000}),
    ("regime", "llama_{arm}_{scale}_{budget}",     "regime llama", "vanilla dyt",                        "64m: 1m 118m; 124m: 1m 118m", {}),
    ("regime", "llama_{base}_{scale}_{budget}{variant}", "regime llama", "dyt_norope dyt_mha dyt_gelu",  "64m: 118m",           {}),
    ("entropy", "{arm}_{scale}",                   "entropy",      "ln_gelu ln_relu lnfree_gelu lnfree_relu lnfree_leaky lnfree_leakyglobal lnfree_leakyfixed",
     "gpt2small; pythia70m", {}),
    ("entropy", "{arm}_{scale}",                   "entropy_micro", "ln_gelu lnfree_gelu lnfree_relu lnfree_leaky lnfree_leakyglobal lnfree_leakyfixed",
     "micro", {}),
    ("regime", "micro/{arm}_micro_{budget}",       "micro",        "vanilla dyt",                        MICRO_CELLS,           {}),
    ("regime", "micro_faithful/{arm}_micro_faithful_{budget}", "micro", "vanilla dyt",                  "micro-faithful: 8k 32k 128k 1m", {"embed_scale": False}),
    ("regime", "micro_derf/{arm}_micro_{budget}",  "micro",        "derf",                               MICRO_CELLS,           {}),
    # the regime paper's other claims at micro scale, in the main grid's protocol, each a study of its own that
    # trains into the main grid's folder (docs/claims.md): HardTanh at every budget; DyT's alpha_0 and
    # LayerNorm's dropout at the smallest budget and the largest
    ("regime", "micro_hardtanh/{arm}_micro_{budget}", "micro",     "hardtanh",                           MICRO_CELLS,           {}),
    ("regime", "micro_alpha/{base}_micro_{budget}{variant}", "micro", "dyt_alpha0.5 dyt_alpha1 dyt_alpha4", "micro: 8k 1m",      {}),
    ("regime", "micro_dropout/{base}_micro_{budget}{variant}", "micro", "vanilla_dropout0.1 vanilla_dropout0.3 vanilla_dropout0.5",
     "micro: 8k 1m", {}),
    # capacity: the micro model at a quarter and half its width (the main grid's 128 is the largest: twice it
    # costs a CPU 2.5 times as long), LayerNorm against DyT at the smallest budget and the largest; and the Llama localisation: a micro Llama, RMSNorm against DyT and the
    # paper's three component ablations (docs/claims.md)
    ("regime", "micro_capacity/{arm}_{scale}_{budget}", "micro",   "vanilla dyt",                        "micro-w32: 8k 1m",    {"n_embd": 32}),
    ("regime", "micro_capacity/{arm}_{scale}_{budget}", "micro",   "vanilla dyt",                        "micro-w64: 8k 1m",    {"n_embd": 64}),
    ("regime", "micro_llama/llama_{base}_micro_{budget}{variant}", "micro llama", "vanilla dyt dyt_norope dyt_mha dyt_gelu",
     "micro: 8k 1m", {}),
    # the regime paper's ViT on CIFAR in its pure bf16: LayerNorm and DyT at alpha_0 = 2, its alpha_0 sweep on
    # CIFAR-10, and fp32 master weights as an intervention; a small ViT on the UCI digits for a CPU, at a few
    # hundred training images and all of them; and the digits as close to the paper's run as a CPU allows, in pure
    # bf16 and fp32, with alpha frozen, to tell what the collapse needs (docs/vit.md)
    ("vit", "vit_{arm}_{scale}",                   "vit",          "vanilla dyt dyt_alpha0.1 dyt_alpha0.3 dyt_alpha0.5 dyt_alpha1 "
                                                                   "vanilla_fp32 dyt_fp32 dyt_alpha0.5_fp32 dyt_fp32_frozen "
                                                                   "dyt_alphafp32", "cifar10",
     {"dataset": "cifar10", "num_classes": 10}),
    ("vit", "vit_{arm}_{scale}",                   "vit",          "vanilla dyt vanilla_fp32 dyt_fp32",  "cifar100",
     {"dataset": "cifar100", "num_classes": 100}),
    ("vit", "vit_digits/{arm}_{budget}",           "vit_digits",   "vanilla dyt dyt_alpha0.5",           "digits: 300 all",     {}),
    ("vit", "vit_precision/{arm}",                 "vit_precision", "vanilla vanilla_fp32 dyt dyt_alphafp32_x70 "
                                                                    "dyt_fp32_frozen dyt_fp32_alphax70", "digits17", {}),
    # a trained model's LayerNorms converted and fine-tuned, against LayerNorm fine-tuned as long from the same
    # weights: the main grid's LayerNorm micro runs at the largest budget (run the main command first), and GPT-2
    # 124M's released weights on WikiText-103 (docs/convert.md)
    ("convert", "convert_micro/{arm}_{budget}",    "micro",        "vanilla dyt dyt_alpha0.5 dyt_calibrated identity", "micro: 1m",
     {"start_from": "out/micro/vanilla_micro_1m_s{seed}", "max_iters": 200, "warmup_iters": 20, "eval_interval": 20}),
    ("convert", "convert_{arm}_{scale}",           "gpt2",         "vanilla dyt dyt_calibrated identity", "gpt2", {}),
    ("plateau", "plateau/{arm}_{budget}",          "micro",        "dyt_faithful dyt_alpha0.5 dyt_alpha1 dyt_embedscale dyt_lr3e-3 dyt_warmup50 "
                                                                   "dyt_steps1400 dyt_recipe vanilla vanilla_embedscale",
     "micro: 8k 1m", {"eval_interval": 50, "embed_scale": False}),
]
