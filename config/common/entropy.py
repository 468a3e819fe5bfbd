# The entropic-overload study (Jha & Reagen, "ReLU's Revival: On the Entropic Overload in
# Normalization-Free Large Language Models", arXiv 2410.09637) on the data this repo prepares.
# They trained on CodeParrot (2.1B tokens); we use WikiText-103, so their perplexities are not ours
# to match, only the ordering: LN+GELU < LN+ReLU < LN-free ReLU < LN-free GELU in eval loss.
# "LN-free" removes the norms inside the blocks and keeps the final LayerNorm, as they do; its
# residual projections start at plain N(0, 0.02) (scaled_init = False in the lnfree configs), AdamW
# has beta2 = 0.999 and decays the learnable leaky-ReLU slopes, as in their setup.
# Batch, steps and learning rate below are our choices (the paper's are not reproduced here).
dataset = "wikitext103"
block_size = 128             # their GPT-2 and Pythia-70M-shaped runs use context 128
vocab_size = 50304
bias = False
dropout = 0.0

max_iters = 10_000
batch_size = 128             # 128 x 128 = 16,384 tokens per step, 164M tokens in all (~1.4 epochs)
gradient_accumulation_steps = 1
eval_interval = 500

learning_rate = 6e-4
warmup_iters = 1000
lr_decay_iters = 10_000
min_lr = 6e-5
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.999
slope_weight_decay = True
grad_clip = 1.0
