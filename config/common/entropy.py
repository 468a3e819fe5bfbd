# The entropic-overload study (Jha & Reagen, "ReLU's Revival: On the Entropic Overload in
# Normalization-Free Large Language Models", arXiv 2410.09637) as its authors' code sets it up
# (github.com/Nandan91/relu-revival-normfree: config/, scripts/experiments/), on the data this repo
# prepares. They trained on CodeParrot; we use WikiText-103, so their perplexities are not ours to match,
# only the ordering: LN+GELU < LN+ReLU < LN-free ReLU < LN-free GELU in eval loss.
# As theirs: every block weight at plain N(0, 0.02), the LayerNorm baselines' too (no GPT-2 1/sqrt(2L)
# scaling); no biases; AdamW at 1e-3 with beta2 0.999 and weight decay 0.1, the learnable leaky-ReLU
# slopes decayed too; gradients clipped at 1; a 5% linear warmup, then a linear decay to 0; 128 x 4 = 512
# sequences of 128 tokens a step. LN-free models keep their final LayerNorm. A fixed leaky slope is 0.1
# (train_normfree.sh), learnable ones start at 0.01.
# Not as theirs: their "global" learnable slope is one per layer in their code (each MLP builds its own
# parameter); ours is one for the whole model, as the paper's text describes it. Their query and key
# projection has a bias, ours none; they train in fp16, keep Hugging Face GPT-2's embedding dropout of 0.1
# (ours none), and run one epoch of their data (num_token_mult=6); ours is 2,500 steps, 164M tokens, about
# 1.4 epochs of WikiText-103.
dataset = "wikitext103"
block_size = 128             # their GPT-2 and Pythia-70M-shaped runs use context 128
vocab_size = 50304
bias = False
dropout = 0.0
norm = "layernorm"
scaled_init = False

max_iters = 2_500
batch_size = 128             # 128 x 4 = 512 sequences of 128 tokens, 65,536 tokens a step
gradient_accumulation_steps = 4
eval_interval = 250

learning_rate = 1e-3
warmup_iters = 125           # 5% of the steps
lr_decay = "linear"
lr_decay_iters = 2_500
min_lr = 0.0
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.999
slope_weight_decay = True
grad_clip = 1.0
