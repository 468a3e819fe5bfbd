"""
Image datasets on disk, and the two ways train.py reads them (the image twin of data.py).

A prepared image dataset is a folder data_dir/<dataset>/ with {train,val}_x.npy (uint8 pixels,
N x channels x height x width), {train,val}_y.npy (class labels) and meta.json ("kind": "images"),
written by prepare_data.py and memory-mapped here. A budget is a prefix: train_images=300 trains on
the first 300 training images.

Training reads images as the text windows are read: which images a step sees, and how each is
augmented (a crop of the image padded by augment_pad pixels, a horizontal flip if augment_flip), is
a pure function of (seed, step), so a resumed run sees exactly the batches of an uninterrupted one
and every process layout the same global batch. Evaluation reads every image once, unaugmented.
Pixels are scaled to [0, 1] and normalised with mean and std 0.5, as the regime paper's ViT code does.
"""

import os

import numpy as np
import torch
import torch.nn.functional as F

from data import DataError, EvalSet, Reading, spread


def load_images(data_dir, dataset, split, meta, limit=None):
    """(pixels, labels) of a split, memory-mapped: the first `limit` images (all if None)."""
    folder = os.path.join(data_dir, dataset)
    try:
        x = np.load(os.path.join(folder, f"{split}_x.npy"), mmap_mode="r")
        y = np.load(os.path.join(folder, f"{split}_y.npy"), mmap_mode="r")
    except (OSError, ValueError) as e:
        raise DataError(f"{folder}: its {split} images cannot be read ({type(e).__name__}: {str(e).splitlines()[0]}): "
                        f"prepare the dataset again with prepare_data.py") from None
    shape = (meta["channels"], meta["image_size"], meta["image_size"])
    if x.ndim != 4 or x.shape[1:] != shape or len(x) != len(y) or len(x) == 0:
        raise DataError(f"{folder}: {split}_x.npy holds {x.shape}, {split}_y.npy {y.shape}, not N images of {shape} "
                        f"with a label each: prepare the dataset again")
    if limit is not None and not 1 <= limit <= len(x):
        raise DataError(f"train_images={limit:,} is not a number of images of {folder}, which has {len(x):,} training "
                        f"images: use 1 to {len(x):,} (or None for all)")
    return x[:limit], y[:limit]


def normalise(pixels, pixel_max):
    """uint8 pixels (an array, or a tensor on any device; any leading shape) as floats in [-1, 1]: scaled to
    [0, 1], then mean and std 0.5."""
    pixels = pixels if torch.is_tensor(pixels) else torch.as_tensor(np.asarray(pixels))
    return (pixels.float() / pixel_max - 0.5) / 0.5


def to_device(t, device):
    """A host tensor on `device`. To a GPU through pinned memory: the copy is then queued behind the GPU's work
    and the host goes on drawing the next batch (from pageable memory it would wait)."""
    if torch.device(device).type != "cuda":
        return t.to(device)
    return t.pin_memory().to(device, non_blocking=True)


class TrainImages:
    """The training batches of one run: example k of the run (k = step * batch + i) is an image of the
    budget, drawn epoch by epoch without replacement (epoch e visits the images in an order drawn from
    (seed, e)), cropped and flipped as drawn from (seed, k). The draws are made on the CPU, a few numbers
    an image; the images are normalised, cropped and flipped on `device`, the whole batch at once."""

    def __init__(self, x, y, seed, meta, pad, flip, device="cpu"):
        self.x, self.y, self.seed, self.n = x, y, seed, len(x)
        self.pixel_max, self.pad, self.flip, self.device = meta["pixel_max"], pad, flip, device
        self._epoch, self._order = None, None

    def _index(self, k):
        epoch = k // self.n
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._order, self._epoch = torch.randperm(self.n, generator=g).numpy(), epoch
        return self._order[k % self.n]

    def draws(self, k):
        """Example k's crop offsets (row, column, in the padded image) and whether it is flipped."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + 7_919 * k + 1)
        i, j = torch.randint(2 * self.pad + 1, (2,), generator=g).tolist() if self.pad else (0, 0)
        return i, j, bool(self.flip and torch.rand(1, generator=g).item() < 0.5)

    def batch(self, first, count):
        """x (count, C, H, W) float, y (count,) int64 for examples first .. first + count - 1, on the device:
        each image a random crop of it padded with black pixels (torchvision's RandomCrop pads before
        normalising: black is -1 after), then flipped if drawn so."""
        idx = [self._index(k) for k in range(first, first + count)]
        x = normalise(to_device(torch.as_tensor(np.asarray(self.x[idx])), self.device), self.pixel_max)
        i, j, flip = to_device(torch.tensor([self.draws(k) for k in range(first, first + count)]), self.device).unbind(1)
        if self.pad:  # every crop of the padded images is a view (unfold); each image's own is gathered
            size = x.shape[-1]
            crops = F.pad(x, (self.pad,) * 4, value=-1.0).unfold(2, size, 1).unfold(3, size, 1)  # N C 2p+1 2p+1 H W
            x = crops[torch.arange(count, device=x.device), :, i, j]
        x = torch.where(flip.bool()[:, None, None, None], x.flip(-1), x).contiguous()
        return x, torch.as_tensor(np.asarray(self.y[idx]), dtype=torch.int64)


def eval_batch(x, y, indices, pixel_max):
    """x, y for the images at `indices`, unaugmented."""
    return normalise(x[indices], pixel_max), torch.as_tensor(np.asarray(y[indices]), dtype=torch.int64)


def read_images(cfg, meta, probe_images, device="cpu"):
    """An image dataset's Reading: the budget's images, augmented for training; every test image, and a
    sample of the training images of the same size (unaugmented), for evaluation; probe_images training
    images for the probes."""
    tx, ty = load_images(cfg.data_dir, cfg.dataset, "train", meta, cfg.train_images)
    vx, vy = load_images(cfg.data_dir, cfg.dataset, "val", meta)
    per_image = (meta["image_size"] // cfg.patch_size) ** 2 + 1  # the patches and the class token

    def pictures(x, y, items):
        return EvalSet(items, lambda some: eval_batch(x, y, some, meta["pixel_max"]))

    val_items, train_items = list(range(len(vx))), list(range(len(tx)))
    return Reading(
        batches=TrainImages(tx, ty, cfg.seed, meta, cfg.augment_pad, cfg.augment_flip, device),
        tokens_per_example=per_image,
        train_size=len(tx) * per_image, val_size=len(vx) * per_image,
        val=pictures(vx, vy, val_items), train=pictures(tx, ty, spread(train_items, len(val_items))), val_full=None,
        probe_x=eval_batch(tx, ty, spread(train_items, probe_images), meta["pixel_max"])[0],
        attn_x=eval_batch(vx, vy, val_items[:8], meta["pixel_max"])[0], targets=(ty, vy), n_targets=meta["classes"])
