# Llama-style blocks for the regime paper's Llama ablation: rotary positions, SwiGLU MLP, no biases,
# RMSNorm as the "vanilla" norm. As in the paper's code (model_llama.py, train.py):
# - attention is plain multi-head: its n_kv_heads defaults to None and no recorded run sets it, so
#   its "mha" ablation (ablate_gqa) builds the same attention as its baseline, and so does ours;
# - the GELU ablation is w2(gelu(w1 x)) at SwiGLU's hidden width (1536 at 64M), not GPT-2's 4d.
#   The paper's model keeps the unused w3 matrix; ours does not, so it counts 9.4M fewer parameters.
# Not recoverable from its code: the step of the ablation baseline's figure (see reference/paper_cells.json),
# and the width of its 124M and ablation runs: its Llama is built from `dim` (default 512), while its
# ablation metadata records n_embd 768; we build 64M-sized models at 512 and 124M-sized ones at 768.
# Parameters (tied embedding once): 64M-sized 66.66M (GELU ablation 57.23M), 124M-sized 123.59M.
arch = "llama"
n_kv_head = None
activation = "swiglu"
rope = True
norm = "rmsnorm"             # Llama's usual norm: the vanilla arm
norm_eps = 1e-5              # RMSNorm's eps in Llama's code (GPT-2's RMSNorm runs use the class's 1e-6); an arm
                             # with a norm that has no eps (DyT) sets it back to None
