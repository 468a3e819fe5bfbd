# GPT-2 small's shape: 12 layers, 12 heads, width 768
n_layer = 12
n_head = 12
n_embd = 768
