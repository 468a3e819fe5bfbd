# Llama-style blocks for the regime paper's Llama ablation: rotary positions, SwiGLU MLP,
# grouped-query attention, no biases, RMSNorm as the "vanilla" norm (eps 1e-5).
# The paper does not record the number of key/value heads; 4 is our choice.
arch = "llama"
n_kv_head = 4
activation = "swiglu"
rope = True
