# The protocol of the DyT regime paper (Verma 2026, "When Does Removing LayerNorm Help?",
# arXiv 2604.23434), as recorded in reference/paper_cells.json. Every regime config starts from
# this file, then sets a model size, a data budget and a method (DyT's alpha_0 included) itself.

dataset = "wikitext103"      # python prepare_data.py wikitext103
block_size = 512
vocab_size = 50304           # GPT-2's 50257 padded to a multiple of 64
bias = False
dropout = 0.0

# 5000 steps of 32,768 tokens (64 sequences of 512): each scale file splits the 64 sequences into
# batch_size x gradient_accumulation_steps to fit its model in memory; the global batch stays 64
max_iters = 5000
eval_interval = 500

# AdamW (0.9, 0.95), weight decay 0.1 on matrices only, clip 1.0; the scale files set learning_rate
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0

# linear warmup over 2000 steps, then a cosine over 600,000 steps to 6e-5: over 5000 steps the
# rate barely decays, so after warmup it is nearly constant
warmup_iters = 2000
lr_decay_iters = 600_000
min_lr = 6e-5
