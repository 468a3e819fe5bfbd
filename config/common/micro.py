# The regime paper's protocol shrunk to a laptop CPU: tiny Shakespeare at byte level (vocab 256),
# a 0.8M-parameter GPT, a fixed number of steps at every budget, a long linear warmup (40% of the
# run, as the paper's 2000 of 5000) and then a nearly constant learning rate, evaluation every 100
# steps. The budgets span tokens/parameters from 0.01 to 1.2 (the paper's grid: 0.0003 to 1.84).
#
# One change to the paper's model, for both norms: a learnable scale on the embeddings, starting at
# sqrt(n_embd) (the DyT authors' recipe for language models). Without it the paper's DyT does not learn
# at this size; why, and what else was tried, is docs/plateau.md.
dataset = "shakespeare_byte"   # python prepare_data.py shakespeare
n_layer = 4
n_head = 4
n_embd = 128
block_size = 128
bias = False
dropout = 0.0

max_iters = 700
batch_size = 16                # 16 x 128 = 2,048 tokens per step
gradient_accumulation_steps = 1
eval_interval = 100
val_tokens = 16_384            # the same validation prefix for every budget (val_loss_full: all 111,540)

learning_rate = 1e-3
warmup_iters = 280
lr_decay_iters = 100_000       # the cosine barely starts: nearly constant after warmup, as in the paper
min_lr = 1e-4
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0

embed_scale = True           # for both norms: see above
