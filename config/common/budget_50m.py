# The first 50M tokens of WikiText-103's training stream, validated on the first
# min(max(10,000, budget / 100), whole split) tokens of its validation split, as in the paper:
# its code slices val[:500_000], and WikiText-103's validation split (about 0.25M GPT-2 tokens) is
# shorter than that, so the prefix is the whole split (None)
train_tokens = 50_000_000
val_tokens = None
