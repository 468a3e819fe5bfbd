# Pythia-70M's shape: 6 layers, 8 heads, width 512
n_layer = 6
n_head = 8
n_embd = 512
