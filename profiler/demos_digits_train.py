"""Train demo:digits-cnn and write its weights and held-out samples (resources/demos/).

    pip install -e ".[train]"      # scikit-learn: the data ship inside it, nothing is downloaded
    python -m profiler.demos_digits_train

Data: scikit-learn's bundled copy of the UCI ML optical recognition of handwritten digits set
(1,797 8×8 images, 10 classes; `sklearn.datasets.load_digits`). A stratified 80/20 split with
a fixed seed: 1,437 images train the model, 360 are held out and shipped as labelled samples.
Adam, 60 epochs, batch 64, cross-entropy; deterministic on the CPU (seeded, one thread). The
script prints the held-out accuracy; the weights are plain arrays (`np.savez`, no pickle).
"""

from __future__ import annotations

SEED = 0
EPOCHS = 60
BATCH = 64
HELD_OUT = 360


def main() -> int:
    import numpy as np
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from profiler.demos_digits import HELDOUT_FILE, PIXEL_MAX, WEIGHTS_FILE, build_digits_cnn, demo_file

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    digits = load_digits()
    x = (digits.images / PIXEL_MAX).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=HELD_OUT, stratify=y, random_state=SEED)
    model = build_digits_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        if (epoch + 1) % 20 == 0:
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}")
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(x_te)).argmax(1).numpy() == y_te).mean()
    print(f"held-out accuracy: {acc:.4f} on {len(y_te)} samples")
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    np.savez(demo_file(WEIGHTS_FILE), **state)
    np.savez(demo_file(HELDOUT_FILE), x=x_te, y=y_te)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
