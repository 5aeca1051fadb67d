"""A tiny TorchScript module with the calling contract of inception-2015-12-05.pt, and its outputs.

The real Inception-v3 file (NVIDIA's TorchScript export used by StyleGAN2-ADA and clean-fid) cannot
be downloaded where the tests run, so the loading path (DJL's PyTorch engine, positional bool
arguments, features vs. logits without the output bias) is tested on this stand-in:

    forward(img, return_features=False, use_fp16=False, no_output_bias=False)

img is N x 3 x H x W in [0, 255]; features are N x 16 (the real net: 2048), logits N x 10 (1008).
Made with Debian's python3-torch (1.13): /usr/bin/python3 tools/reference/tiny_inception.py
Writes common/src/test/resources/reference/tiny-inception.pt and tiny-inception.json (the outputs
for the deterministic input described there, computed here by PyTorch itself).
"""
import json
import os

import torch


class TinyInception(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = torch.nn.AdaptiveAvgPool2d(2)
        self.features = torch.nn.Linear(12, 16)
        self.output = torch.nn.Linear(16, 10)

    def forward(self, img: torch.Tensor, return_features: bool = False, use_fp16: bool = False,
                no_output_bias: bool = False) -> torch.Tensor:
        x = img.to(torch.float32) / 255.0
        f = torch.tanh(self.features(self.pool(x).flatten(1)))
        if return_features:
            return f
        if no_output_bias:
            return torch.nn.functional.linear(f, self.output.weight)
        return self.output(f)


def images(n, h, w):
    # The same formula as InceptionNetTest.images: values in [0, 1].
    x = torch.zeros(n, 3, h, w, dtype=torch.float64)
    for a in range(n):
        for c in range(3):
            for i in range(h):
                for j in range(w):
                    x[a, c, i, j] = ((a * 7 + c * 5 + i * 3 + j) % 11) / 10.0
    return x.to(torch.float32)


def main():
    torch.manual_seed(20151205)
    net = torch.jit.script(TinyInception().eval())
    out = os.path.join(os.path.dirname(__file__), "..", "..", "common", "src", "test", "resources",
                       "reference")
    net.save(os.path.join(out, "tiny-inception.pt"))
    x = images(4, 8, 8) * 255.0
    with torch.no_grad():
        features = net(x, True).double()
        probabilities = torch.softmax(net(x, False, False, True).double(), dim=1)
    # Inception Score over 2 splits of 2, as StyleGAN2-ADA computes it (mean of exp(mean KL)).
    scores = []
    for part in probabilities.chunk(2):
        kl = part * (torch.log(part) - torch.log(part.mean(dim=0, keepdim=True)))
        scores.append(torch.exp(kl.sum(dim=1).mean()).item())
    with open(os.path.join(out, "tiny-inception.json"), "w") as f:
        json.dump({"input": "4x3x8x8, x[n,c,h,w] = ((7n + 5c + 3h + w) mod 11) / 10",
                   "features": features.tolist(), "probabilities": probabilities.tolist(),
                   "inception_score_2_splits": sum(scores) / len(scores),
                   "torch": torch.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
