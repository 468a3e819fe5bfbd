# GPT-2 124M's released weights, their LayerNorms converted, fine-tuned on WikiText-103 (docs/convert.md; for GPUs,
# not run here). Download Hugging Face's gpt2/pytorch_model.bin into gpt2/ (README); the model is GPT-2's own:
# 12 blocks of width 768 with 12 heads, biases, its tanh GELU, its unpadded vocabulary of 50,257 and its context
# of 1,024 tokens. The fine-tune: 2,000 steps of 32 x 1,024 tokens (65M tokens, about half of WikiText-103's
# training split) at a learning rate of 1e-4 after a 100-step warmup, AdamW (0.9, 0.95) with weight decay 0.1
# on matrices and clipping at 1.0, as the regime protocol's (config/common/regime.py).
start_from = "gpt2/pytorch_model.bin"
dataset = "wikitext103"      # python prepare_data.py wikitext103
n_layer = 12
n_head = 12
n_embd = 768
block_size = 1024
vocab_size = 50257
bias = True
activation = "gelu_tanh"
dropout = 0.0

max_iters = 2000
batch_size = 16
gradient_accumulation_steps = 2
eval_interval = 200
val_tokens = 1_000_000

learning_rate = 1e-4
warmup_iters = 100
lr_decay_iters = 2000
min_lr = 1e-5
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0
